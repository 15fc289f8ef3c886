import { QueryFailedError } from 'typeorm';
import { logError } from './logging';

describe('logError', () => {
  it('keeps what explains a failed query and drops its parameters, query text and detail', () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "api_keys_hash"'), {
      code: '23505',
      detail: 'Key (key_hash)=(cops_secret_hash_value) already exists.',
    });
    const err = new QueryFailedError('INSERT INTO api_keys (key_hash) VALUES ($1)', ['cops_secret_value'], driverError);
    const logged = logError(err);
    const text = JSON.stringify(logged);
    expect(text).not.toContain('cops_secret_value');
    expect(text).not.toContain('cops_secret_hash_value');
    expect(text).not.toContain('INSERT INTO');
    expect(logged).toMatchObject({
      type: 'QueryFailedError',
      message: expect.stringContaining('duplicate key'),
      code: '23505',
      driverError: { code: '23505', message: expect.stringContaining('duplicate key') },
    });
    expect(logged.stack).toEqual(expect.any(String));
  });

  it('logs a plain error as pino would, and a thrown non-error as its text', () => {
    expect(logError(new Error('boom'))).toMatchObject({ type: 'Error', message: 'boom' });
    expect(logError('just text')).toEqual({ message: 'just text' });
  });
});
