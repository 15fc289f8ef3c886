/**
 * A small RFC 4180 reader for ticket uploads. Written here rather than taken from a dependency
 * because the upload needs only the core grammar plus precise error positions (the whole
 * upload is refused on the first syntax error, naming the line).
 *
 * Accepted beyond the letter of RFC 4180, because spreadsheets produce it: LF or CR line
 * breaks as well as CRLF, a UTF-8 byte order mark, and a missing final line break.
 */

export interface CsvRecord {
  fields: string[];
  /** 1-based physical line where the record starts (differs from its row when a cell spans lines). */
  line: number;
}

export class CsvSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Splits CSV text into records of fields; quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): CsvRecord[] {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // True once the current field has seen a closing quote: only a separator may follow it.
  let closed = false;
  const endRecord = () => {
    fields.push(field);
    records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    closed = false;
  };

  while (i < src.length) {
    const ch = src[i];
    if (ch === ',') {
      fields.push(field);
      field = '';
      closed = false;
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && src[i + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
    } else if (closed) {
      throw new CsvSyntaxError('unexpected character after a closing quote', line);
    } else if (ch === '"') {
      if (field !== '')
        throw new CsvSyntaxError('a quote inside an unquoted field must itself be in a quoted field', line);
      const start = line;
      i++;
      for (;;) {
        if (i >= src.length) throw new CsvSyntaxError('a quoted field is never closed', start);
        const c = src[i];
        if (c === '"') {
          if (src[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (c === '\n' || (c === '\r' && src[i + 1] !== '\n')) line++;
        field += c;
        i++;
      }
      closed = true;
    } else {
      field += ch;
      i++;
    }
  }
  // A final line break ends the last record; without one the last record ends at end of input.
  if (field !== '' || fields.length > 0 || closed) endRecord();
  return records;
}

export interface CsvTableRow {
  /** Spreadsheet row number: the header is row 1, the first data row is row 2. */
  row: number;
  /** Physical line where the row starts, for text editors. */
  line: number;
  /** Cells by column name; empty cells are left out (absent). */
  values: Record<string, string>;
}

export interface CsvTableProblem {
  /** Spreadsheet row number; null for a syntax error, which only has a line. */
  row: number | null;
  line: number;
  column: string | null;
  message: string;
}

export interface CsvTableOptions {
  columns: readonly string[];
  required: readonly string[];
  maxRows: number;
}

export type CsvTable = { ok: true; rows: CsvTableRow[] } | { ok: false; problems: CsvTableProblem[] };

/**
 * Reads a CSV with a header row into named cells. Header names are matched case-insensitively
 * after trimming, in any order; unknown, duplicate or missing required columns refuse the file.
 * Blank lines are skipped but still counted, so row numbers match what a spreadsheet shows.
 */
export function readCsvTable(text: string, options: CsvTableOptions): CsvTable {
  let records: CsvRecord[];
  try {
    records = parseCsv(text);
  } catch (err) {
    if (err instanceof CsvSyntaxError)
      return { ok: false, problems: [{ row: null, line: err.line, column: null, message: err.message }] };
    throw err;
  }
  const isBlank = (r: CsvRecord) => r.fields.length === 1 && r.fields[0] === '';
  const headerIndex = records.findIndex((r) => !isBlank(r));
  if (headerIndex < 0) {
    return { ok: false, problems: [{ row: 1, line: 1, column: null, message: 'the file has no header row' }] };
  }
  const header = records[headerIndex].fields.map((h) => h.trim().toLowerCase());
  const problems: CsvTableProblem[] = [];
  const at = { row: headerIndex + 1, line: records[headerIndex].line };
  header.forEach((name, index) => {
    if (!options.columns.includes(name)) {
      problems.push({ ...at, column: name, message: `unknown column "${name}"` });
    } else if (header.indexOf(name) !== index) {
      problems.push({ ...at, column: name, message: `column "${name}" appears twice` });
    }
  });
  for (const name of options.required) {
    if (!header.includes(name)) problems.push({ ...at, column: name, message: `missing column "${name}"` });
  }
  if (problems.length) return { ok: false, problems };

  const rows: CsvTableRow[] = [];
  for (let index = headerIndex + 1; index < records.length; index++) {
    const record = records[index];
    if (isBlank(record)) continue;
    const row = index + 1;
    const line = record.line;
    if (rows.length >= options.maxRows) {
      return { ok: false, problems: [{ row, line, column: null, message: `more than ${options.maxRows} data rows` }] };
    }
    if (record.fields.length !== header.length) {
      problems.push({
        row,
        line,
        column: null,
        message: `has ${record.fields.length} cells but the header has ${header.length}`,
      });
      continue;
    }
    const values: Record<string, string> = {};
    record.fields.forEach((cell, i) => {
      if (cell !== '') values[header[i]] = cell;
    });
    rows.push({ row, line, values });
  }
  if (problems.length) return { ok: false, problems };
  if (!rows.length)
    return { ok: false, problems: [{ row: null, line: at.line, column: null, message: 'no data rows' }] };
  return { ok: true, rows };
}
