/**
 * The one summary of `npm run bench`: each bench records its headline figures (what it measured,
 * the goal, met or not) with `recordFigures`; `npm run bench:summary` (the last step of
 * `npm run bench`) prints them as one table and writes that table into RESULTS.md between the
 * summary markers, with the date, commit and machine. A bench run alone records its figures too;
 * `npm run bench:reset` (the first step of `npm run bench`) forgets earlier ones.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const DIR = process.env.BENCH_SUMMARY_DIR || join(ROOT, '.data', 'bench-figures');
const RESULTS = join(__dirname, 'RESULTS.md');
const START = '<!-- bench-summary:start -->';
const END = '<!-- bench-summary:end -->';

/** The order benches appear in `npm run bench`. */
const ORDER = ['boot', 'http', 'auth', 'sessions', 'payroll', 'webhooks', 'incidents', 'agents', 'workflows'];

export interface Figure {
  figure: string;
  today: string;
  goal: string;
  /** null: the bench could not measure it this time (said in `today`). */
  met: boolean | null;
}

interface Recorded {
  bench: string;
  at: string;
  figures: Figure[];
}

/** Called by a bench once it has its figures (replaces what that bench recorded before). */
export function recordFigures(bench: string, figures: Figure[]): void {
  mkdirSync(DIR, { recursive: true });
  const record: Recorded = { bench, at: new Date().toISOString(), figures };
  writeFileSync(join(DIR, `${bench}.json`), JSON.stringify(record, null, 2));
}

function readAll(): Recorded[] {
  if (!existsSync(DIR)) return [];
  const records = readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Recorded);
  const rank = (b: string) => (ORDER.includes(b) ? ORDER.indexOf(b) : ORDER.length);
  return records.sort((a, b) => rank(a.bench) - rank(b.bench) || a.bench.localeCompare(b.bench));
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown';
  }
}

export function summaryTable(records: Recorded[]): string {
  const machine = `${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}`;
  const lines = [
    `Summary of the last \`npm run bench\` (written by \`npm run bench:summary\`): ${new Date().toISOString().slice(0, 10)}, ` +
      `commit ${commit()}, ${machine}. Each figure is a ratio or rate measured in that bench's own run; its section below ` +
      `says how, and where a goal is missed, why.`,
    '',
    '| Bench | Figure | Today | Goal | Met |',
    '|---|---|---:|---|---|',
  ];
  for (const r of records) {
    for (const f of r.figures) {
      const met = f.met === null ? 'not measured' : f.met ? 'yes' : '**no**';
      lines.push(
        `| ${r.bench} (${r.at.slice(0, 16).replace('T', ' ')}) | ${f.figure} | ${f.today} | ${f.goal} | ${met} |`,
      );
    }
  }
  const all = records.flatMap((r) => r.figures);
  lines.push(
    '',
    `${all.filter((f) => f.met).length} of ${all.length} goals met` +
      (records.length ? '' : ' (no bench has recorded figures: run `npm run bench`)') +
      '.',
  );
  return lines.join('\n');
}

function main(): void {
  const command = process.argv[2];
  if (command === 'reset') {
    rmSync(DIR, { recursive: true, force: true });
    return;
  }
  const table = summaryTable(readAll());
  console.log(table);
  const text = readFileSync(RESULTS, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`RESULTS.md has no ${START} … ${END} block`);
  writeFileSync(RESULTS, `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`);
  console.log(`\n(written into ${RESULTS})`);
}

if (require.main === module) main();
