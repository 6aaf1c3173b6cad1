/**
 * Errors keep what they are on their way through Redis (errors.ts): a command's failure comes back from the worker
 * with its code, message, stack and causes; whatever was thrown becomes an Error that says what it was.
 */
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigError,
  ErrorCodes,
  SyncError,
  coerceError,
  deserializeError,
  serializeError,
} from '../src/errors.js';

/** As the worker sends it and the command reads it: through JSON. */
const travel = (err: unknown): Error => deserializeError(JSON.parse(JSON.stringify(serializeError(err))));

describe('an error sent through Redis', () => {
  it('comes back with its code, message, retryability, stack and the chain of its causes', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const api = new ApiError(ErrorCodes.API_UNAVAILABLE, 'GET /probe', 'the connection failed', {
      cause: reset,
      retryable: true,
    });
    const back = travel(api);
    expect(back).toBeInstanceOf(SyncError);
    expect(back).toMatchObject({
      code: 'E_API_UNAVAILABLE',
      message: 'GET /probe: the connection failed',
      retryable: true,
    });
    expect(back.stack).toBe(api.stack);
    expect(back.cause).toBeInstanceOf(Error);
    expect(back.cause).toMatchObject({ name: 'Error', message: 'socket hang up', stack: reset.stack });
  });

  it('a ConfigError comes back as one, with each of its problems', () => {
    const back = travel(new ConfigError(['LOG_LEVEL="loud" is not valid', 'REDIS_URL is not a URL']));
    expect(back).toBeInstanceOf(ConfigError);
    expect((back as ConfigError).problems).toEqual(['LOG_LEVEL="loud" is not valid', 'REDIS_URL is not a URL']);
  });

  it('a chain of causes that loops, or is very deep, travels bounded (five causes)', () => {
    const loop = new SyncError(ErrorCodes.WAREHOUSE, 'first');
    Object.defineProperty(loop, 'cause', { value: loop });
    let depth = 0;
    for (let err: Error | undefined = travel(loop); err; err = err.cause as Error | undefined) depth++;
    expect(depth).toBe(6);
  });
});

describe('an error quoting a huge input', () => {
  it('travels with its message and stack cut at 8,000 characters', () => {
    const huge = new SyncError(ErrorCodes.QUERY_INVALID, `Parser Error: ${'x'.repeat(1_048_576)}`);
    const data = serializeError(huge);
    expect(data.message).toBe(`${huge.message.slice(0, 8_000)}...`);
    expect(data.stack!.length).toBeLessThanOrEqual(8_003);
  });
});

describe('whatever was thrown', () => {
  it('is an Error that says what it was', () => {
    const error = new TypeError('x is not a function');
    expect(coerceError(error)).toBe(error);
    expect(coerceError('disk full').message).toBe('a non-Error was thrown: disk full');
    expect(coerceError({ status: 500 }).message).toBe('a non-Error was thrown: {"status":500}');
    expect(coerceError(undefined).message).toBe('a non-Error was thrown: undefined');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(coerceError(circular).message).toBe('a non-Error was thrown: [object Object]');
  });
});
