export { FakeBigQuery } from './server';
export type { InjectedFailure, RequestKind, RequestLogEntry } from './server';
export type { ServiceAccountKeyFile } from './oauth';
