/**
 * Cells of the CSV exports. Text that a spreadsheet would read as a formula (starting with
 * `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with a single quote, as OWASP's
 * CSV-injection guidance says, so a driver named `=HYPERLINK(...)` opens as text. Numbers are
 * written as they are: a negative amount stays a number.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvNumber(value: unknown): string {
  return csvQuoted(value === null || value === undefined ? '' : String(value));
}

export function csvText(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return csvQuoted(FORMULA_START.test(s) ? `'${s}` : s);
}

function csvQuoted(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
