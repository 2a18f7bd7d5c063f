import { classifyCommonError, classifyHttpStatus, classifyPostgresError, DestinationError, isDestinationError } from '../../src/sdk';

describe('classifyCommonError', () => {
  it('passes DestinationErrors through unchanged', () => {
    const e = new DestinationError('config', 'bad bucket');
    expect(classifyCommonError(e)).toBe(e);
  });
  it('treats connection refused as retryable', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyCommonError(e).kind).toBe('retryable');
  });
  it('maps Postgres SQLSTATEs by class', () => {
    expect(classifyPostgresError({ code: '28P01', message: 'password authentication failed' })?.kind).toBe('config');
    expect(classifyPostgresError({ code: '40001', message: 'serialization failure' })?.kind).toBe('retryable');
    expect(classifyPostgresError({ code: '42P01', message: 'relation does not exist' })?.kind).toBe('permanent');
    expect(classifyPostgresError({ code: 'ECONNRESET' })).toBeUndefined();
  });
  it('maps HTTP statuses', () => {
    expect(classifyHttpStatus(503, 'unavailable').kind).toBe('retryable');
    expect(classifyHttpStatus(429, 'slow down', undefined, 2000).retryAfterMs).toBe(2000);
    expect(classifyHttpStatus(403, 'denied').kind).toBe('config');
    expect(classifyHttpStatus(404, 'no such bucket').kind).toBe('permanent');
    expect(classifyCommonError({ $metadata: { httpStatusCode: 500 }, message: 'x' }).kind).toBe('retryable');
  });
  it('recognises DestinationErrors by name across module copies', () => {
    const foreign = { name: 'DestinationError', kind: 'permanent', message: 'x' };
    expect(isDestinationError(foreign)).toBe(true);
    expect(isDestinationError(new Error('x'))).toBe(false);
  });
});
