import { parseFlags } from './task';

describe('parseFlags', () => {
  it('reads --key value pairs', () => {
    expect(parseFlags(['--name', 'Acme', '--plan', 'pro'])).toEqual({ name: 'Acme', plan: 'pro' });
  });

  it('treats a flag without a value as true', () => {
    expect(parseFlags(['--dry-run'])).toEqual({ 'dry-run': true });
    expect(parseFlags(['--dry-run', '--name', 'Acme'])).toEqual({ 'dry-run': true, name: 'Acme' });
    expect(parseFlags(['--name', 'Acme', '--force'])).toEqual({ name: 'Acme', force: true });
  });

  it('reads --key=value, keeping later "=" in the value', () => {
    expect(parseFlags(['--plan=pro'])).toEqual({ plan: 'pro' });
    expect(parseFlags(['--filter=a=b'])).toEqual({ filter: 'a=b' });
    expect(parseFlags(['--note='])).toEqual({ note: '' });
  });

  it('returns no flags for no arguments', () => {
    expect(parseFlags([])).toEqual({});
  });

  it('throws on a bare positional argument', () => {
    expect(() => parseFlags(['Acme'])).toThrow('unexpected argument "Acme"');
    expect(() => parseFlags(['--plan=pro', 'extra'])).toThrow('unexpected argument "extra"');
    expect(() => parseFlags(['--name', 'Acme', 'Corp'])).toThrow('unexpected argument "Corp"');
  });
});
