/** Error classification by Snowflake code, and config validation. */
import { DestinationError } from '../../src/sdk';
import { classifySnowflakeError } from '../../plugins/snowflake/errors';
import { snowflakeConfigSchema } from '../../plugins/snowflake/config';
import { resolveName, qualified } from '../../plugins/snowflake/identifiers';
import { statementTimeoutSeconds } from '../../plugins/snowflake';

const sfError = (code: string | number, message = 'x', extra: object = {}) => Object.assign(new Error(message), { code, ...extra });

describe('classifySnowflakeError', () => {
  it.each([
    ['390100', 'config'],
    ['390144', 'config'],
    ['002003', 'config'],
    ['000606', 'config'],
    ['000608', 'config'],
    ['003001', 'config'],
    ['000904', 'permanent'],
    ['100072', 'permanent'],
    ['000630', 'retryable'],
    ['000604', 'retryable'],
    ['390112', 'retryable'],
    ['401001', 'retryable'],
    ['404005', 'config'],
  ])('code %s is %s', (code, kind) => {
    expect(classifySnowflakeError(sfError(code)).kind).toBe(kind);
  });

  it('reads numeric codes and HTTP statuses of failed responses', () => {
    expect(classifySnowflakeError(sfError(2003)).code).toBe('SNOWFLAKE_002003');
    expect(classifySnowflakeError(sfError(401002, 'bad', { response: { statusCode: 503 } })).kind).toBe('retryable');
    expect(classifySnowflakeError(sfError(401002, 'bad', { response: { statusCode: 403 } })).kind).toBe('config');
  });

  it('passes DestinationErrors through and classifies plain network errors', () => {
    const own = new DestinationError('permanent', 'mine');
    expect(classifySnowflakeError(own)).toBe(own);
    expect(classifySnowflakeError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).kind).toBe('retryable');
  });
});

describe('Snowflake config', () => {
  const base = { account: 'myorg-acct', user: 'u', warehouse: 'WH', database: 'DB' };
  it('fills defaults and accepts exactly one auth method', () => {
    const r = snowflakeConfigSchema.parse({ ...base, password: 'p' });
    expect(r.schema).toBe('PUBLIC');
    const both = snowflakeConfigSchema.safeParse({ ...base, password: 'p', private_key: '-----BEGIN PRIVATE KEY-----\nx' });
    expect(both.success).toBe(false);
    expect(both.error?.issues.map((i) => i.message)).toContain('Set either password or private_key, not both');
  });

  it('every field is documented', () => {
    const shape = (snowflakeConfigSchema as unknown as { shape?: Record<string, { description?: string }> }).shape ??
      (snowflakeConfigSchema as unknown as { def: { in?: { shape: Record<string, { description?: string }> } } }).def.in?.shape;
    expect(shape).toBeDefined();
    const undocumented = Object.entries(shape!).filter(([, s]) => !s.description).map(([k]) => k);
    expect(undocumented).toEqual([]);
  });
});

describe('identifiers and timeouts', () => {
  it('plain names are upper-cased, quoted or odd names are exact', () => {
    expect(resolveName('analytics')).toBe('ANALYTICS');
    expect(resolveName('"analytics"')).toBe('analytics');
    expect(resolveName('my table')).toBe('my table');
    expect(qualified('db', '"Sch"', 'a"b')).toBe('"DB"."Sch"."a""b"');
  });

  it('derives the statement timeout from the interval, within bounds', () => {
    const at = (s: number) => ({ start: new Date(0), end: new Date(s * 1000) });
    expect(statementTimeoutSeconds(at(300))).toBe(600);
    expect(statementTimeoutSeconds(at(3600))).toBe(7200);
    expect(statementTimeoutSeconds(at(7 * 86400))).toBe(6 * 3600);
  });
});
