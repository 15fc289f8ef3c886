import { findHostileInput, HostileInputPipe, MAX_INPUT_DEPTH } from './hostile-input.pipe';

describe('hostile input', () => {
  it('finds NUL characters and lone surrogates in values and keys, with their paths', () => {
    expect(findHostileInput({ name: 'a\u0000b' })).toEqual([
      { field: 'name', message: 'must not contain NUL characters' },
    ]);
    expect(findHostileInput({ list: [{ x: 'ok' }, { x: '\uD800' }] })).toEqual([
      { field: 'list[1].x', message: 'must be valid Unicode (lone surrogate)' },
    ]);
    expect(findHostileInput({ ['k\u0000']: 1 })).toEqual([
      { field: 'k\u0000', message: 'must not contain NUL characters' },
    ]);
    expect(findHostileInput('\uDC00 low first')).toEqual([
      { field: 'body', message: expect.stringMatching(/surrogate/) },
    ]);
  });

  it('accepts proper surrogate pairs and ordinary text', () => {
    expect(findHostileInput({ name: 'Zoë 😀 東京', n: 1, b: null, t: true })).toEqual([]);
  });

  it('refuses keys that address prototypes', () => {
    const parsed = JSON.parse('{"__proto__": {"admin": true}, "constructor": 1}') as object;
    expect(
      findHostileInput(parsed)
        .map((p) => p.field)
        .sort(),
    ).toEqual(['__proto__', 'constructor']);
  });

  it('refuses absurd nesting without walking it recursively', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findHostileInput(deep)).toEqual([
      { field: expect.any(String), message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` },
    ]);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) ok = { a: ok };
    expect(findHostileInput(ok)).toEqual([]);
  });

  it('as a pipe: 400 for bodies and queries, params and custom arguments untouched', () => {
    const pipe = new HostileInputPipe();
    expect(() => pipe.transform({ a: '\u0000' }, { type: 'body' })).toThrow(/The request is invalid: a\./);
    expect(() => pipe.transform({ q: '\u0000' }, { type: 'query' })).toThrow();
    expect(pipe.transform('\u0000', { type: 'custom' })).toBe('\u0000');
  });
});
