import { CsvSyntaxError, parseCsv, readCsvTable } from './ticket-csv';

const fields = (text: string) => parseCsv(text).map((r) => r.fields);

describe('parseCsv', () => {
  it('splits records on CRLF, LF and CR, with or without a final line break', () => {
    expect(fields('a,b\r\nc,d\r\n')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(fields('a,b\nc,d')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(fields('a\rb\r')).toEqual([['a'], ['b']]);
  });

  it('keeps empty fields, including a trailing one', () => {
    expect(fields(',a,,\n')).toEqual([['', 'a', '', '']]);
    expect(fields('a,')).toEqual([['a', '']]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks', () => {
    const records = parseCsv('"x, y","say ""hi""","two\r\nlines"\r\nnext,"",z\r\n');
    expect(records.map((r) => r.fields)).toEqual([
      ['x, y', 'say "hi"', 'two\r\nlines'],
      ['next', '', 'z'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 3]);
  });

  it('drops a UTF-8 byte order mark', () => {
    expect(fields('\uFEFFa,b\n')).toEqual([['a', 'b']]);
  });

  it('refuses malformed quoting, naming the line', () => {
    const cases: [string, RegExp, number][] = [
      ['a,b\nc"d,e\n', /quote inside an unquoted field/, 2],
      ['a\n"open,b\nc\n', /never closed/, 2],
      ['"a"b,c\n', /after a closing quote/, 1],
      ['"a" ,c\n', /after a closing quote/, 1],
    ];
    for (const [text, message, line] of cases) {
      try {
        parseCsv(text);
        throw new Error(`parsed ${JSON.stringify(text)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(CsvSyntaxError);
        expect((err as CsvSyntaxError).message).toMatch(message);
        expect((err as CsvSyntaxError).line).toBe(line);
      }
    }
  });
});

describe('readCsvTable', () => {
  const options = { columns: ['id', 'qty', 'note'], required: ['id'], maxRows: 3 };

  it('maps cells by header name in any order, leaving empty cells out', () => {
    const table = readCsvTable(' Note ,ID,qty\r\n"a, b",1,\r\n,2,3.5\r\n', options);
    expect(table).toEqual({
      ok: true,
      rows: [
        { row: 2, line: 2, values: { note: 'a, b', id: '1' } },
        { row: 3, line: 3, values: { id: '2', qty: '3.5' } },
      ],
    });
  });

  it('skips blank lines but counts them, so row numbers match a spreadsheet', () => {
    const table = readCsvTable('id\n\n7\n', options);
    expect(table).toEqual({ ok: true, rows: [{ row: 3, line: 3, values: { id: '7' } }] });
  });

  it('refuses unknown, duplicate and missing columns', () => {
    const table = readCsvTable('qty,qty,colour\n1,2,red\n', options);
    expect(table.ok).toBe(false);
    if (table.ok) return;
    expect(table.problems.map((p) => p.message)).toEqual([
      'column "qty" appears twice',
      'unknown column "colour"',
      'missing column "id"',
    ]);
  });

  it('refuses rows with the wrong number of cells', () => {
    const table = readCsvTable('id,qty\n1,2\n3\n', options);
    expect(table).toEqual({
      ok: false,
      problems: [{ row: 3, line: 3, column: null, message: 'has 1 cells but the header has 2' }],
    });
  });

  it('refuses more data rows than allowed, an empty file and a header without rows', () => {
    const tooMany = readCsvTable('id\n1\n2\n3\n4\n', options);
    expect(tooMany.ok || tooMany.problems[0].message).toBe('more than 3 data rows');
    const empty = readCsvTable('\n\n', options);
    expect(empty.ok || empty.problems[0].message).toBe('the file has no header row');
    const headerOnly = readCsvTable('id\r\n', options);
    expect(headerOnly.ok || headerOnly.problems[0].message).toBe('no data rows');
  });

  it('reports a syntax error by line, with no row', () => {
    const table = readCsvTable('id,note\n1,"multi\nline\n2,x\n', options);
    expect(table).toEqual({
      ok: false,
      problems: [{ row: null, line: 2, column: null, message: 'line 2: a quoted field is never closed' }],
    });
  });
});
