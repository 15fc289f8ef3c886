/**
 * Boot benchmark: time from `spawn(node dist/src/main.js all)` until GET /health/ready is 200.
 *
 *   cold: a fresh, empty DATA_DIR each run (initdb + roles + migrations + queue schema)
 *   warm: the same DATA_DIR again (cluster, roles and schema are reused)
 *
 * Each run is stopped with SIGTERM and must exit 0 (with its embedded PostgreSQL stopped) before
 * the next one starts. Run with `npm run bench:boot`. Settings (env):
 *   BENCH_RUNS (5)              runs of each kind
 *   BENCH_PORT (3900)           HTTP port of the app (BENCH_PORT+2 is given as HEALTH_PORT)
 *   BENCH_PG_PORT (5900)        EMBEDDED_PG_PORT
 *   BENCH_LOG_LEVEL (debug)     LOG_LEVEL of the app; debug adds the embedded PostgreSQL lines
 *                               (a dozen lines per boot) that the phase breakdown needs
 *   BENCH_BOOT_TIMEOUT_MS (60000), BENCH_STOP_TIMEOUT_MS (40000)
 *   BENCH_QUIET_WAIT_MS (90000) before each run, wait up to this long for the machine to be
 *                               nearly idle (other processes busy < 0.3 CPU over 1 s); 0 = only
 *                               take the 1 s sample.
 *                               Runs that started on a busy machine are flagged in the table.
 *   BENCH_NICE (unset)          nice value for the bench, the app and its PostgreSQL (e.g. -10)
 */
import { existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { cpus } from 'node:os';
import {
  alive,
  appEnv,
  applyNice,
  assertPortsFree,
  BenchResources,
  busyCpus,
  busyMachine,
  busyStr,
  cpuTicks,
  envDecimal,
  envNice,
  envNumber,
  installExitHandlers,
  isPortFree,
  loadStr,
  MAIN,
  postmasterPid,
  QUIET_BUSY_CPUS,
  runBench,
  sleep,
  spawnApp,
  stopProcess,
  waitForQuiet,
} from './bench-harness';
import { recordFigures } from './summary';

const RUNS = envNumber('BENCH_RUNS', 5);
const PORT = envNumber('BENCH_PORT', 3900);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envNumber('BENCH_PG_PORT', 5900);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'debug';
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 60000);
const STOP_TIMEOUT_MS = envNumber('BENCH_STOP_TIMEOUT_MS', 40000);
const QUIET_WAIT_MS = envDecimal('BENCH_QUIET_WAIT_MS', 90000, true);
const POLL_INTERVAL_MS = 20;
const TARGET_MS = { cold: 15000, warm: 3000 } as const;

type Kind = keyof typeof TARGET_MS;

/** Milestones of one boot, in ms since spawn. Those from the app's logs use its pino `time`. */
const MILESTONES = [
  ['pgStarting', 'postgres binary starting (node loaded + initdb when cold)'],
  ['pgAccepting', 'postgres accepting connections'],
  ['embeddedUp', 'roles + database provisioned ("embedded PostgreSQL on")'],
  ['migrated', 'migrations + queue schema applied (logged only when some were applied)'],
  ['nestListening', 'Nest created + init + listening (buffered Nest logs are flushed on listen)'],
  ['firstResponse', 'first HTTP answer to /health/ready (any status)'],
  ['announced', '"CalmOps is up" printed (after the demo org is ensured)'],
  ['ready', '/health/ready 200'],
] as const;
type Milestone = (typeof MILESTONES)[number][0];

interface RunResult {
  kind: Kind;
  run: number;
  readyMs: number;
  stopMs: number;
  exitCode: number | string;
  notReadyAnswers: number;
  /** Failing checks named by the first non-200 readiness answer. */
  firstNotReady?: string;
  /** Busy CPUs (whole machine) in the second before spawn, and on average from spawn to ready. */
  busyBefore?: number;
  busyDuring?: number;
  milestones: Partial<Record<Milestone, number>>;
}

/**
 * BENCH_NICE (unset = leave priorities alone): nice value for the bench process, the app and the
 * processes it starts (PostgreSQL inherits it), e.g. -10 on a machine shared with other work.
 */
const NICE = envNice();

const resources = new BenchResources();

/** GET on loopback; resolves with status and body, or undefined when nothing answers. */
function probe(path: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((done) => {
    const req = request({ host: '127.0.0.1', port: PORT, path, method: 'GET', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => done({ status: res.statusCode ?? 0, body }));
      res.once('error', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(undefined));
    req.end();
  });
}

/** Names of the failing checks in a readiness body ("database, migrations"). */
function failingChecks(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: Record<string, unknown>; message?: string };
    const named = Object.keys(parsed.error ?? {}).join(', ') || parsed.message;
    if (named) return named;
  } catch {
    /* not JSON: show the start of the body */
  }
  return JSON.stringify(body.slice(0, 80)).replace(/\|/g, '\\|');
}

function recordLogLine(line: string, spawnEpoch: number, marks: Partial<Record<Milestone, number>>): void {
  const set = (m: Milestone, at: number) => {
    if (marks[m] === undefined) marks[m] = at - spawnEpoch;
  };
  if (line.startsWith('CalmOps is up')) return set('announced', Date.now());
  if (!line.startsWith('{')) return;
  let entry: { time?: number; msg?: string; context?: string };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return;
  }
  const msg = entry.msg ?? '';
  const at = entry.time ?? Date.now();
  if (msg.includes('LOG:  starting PostgreSQL')) set('pgStarting', at);
  else if (msg.includes('database system is ready to accept connections')) set('pgAccepting', at);
  else if (msg.startsWith('embedded PostgreSQL on')) set('embeddedUp', at);
  else if (/^applied \d+ migration/.test(msg)) set('migrated', at);
  else if (entry.context === 'NestFactory') set('nestListening', at);
}

async function bootOnce(kind: Kind, run: number, dataDir: string): Promise<RunResult> {
  for (const port of [PORT, PG_PORT]) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is busy before ${kind} run ${run}`);
  }
  const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
  const marks: Partial<Record<Milestone, number>> = {};
  const env = appEnv(
    dataDir,
    PG_PORT,
    { PORT: String(PORT), HEALTH_PORT: String(HEALTH_PORT), LOG_LEVEL },
    {
      unlimitedPlans: [],
    },
  );
  const ticksAtSpawn = cpuTicks();
  const spawnEpoch = Date.now();
  const started = performance.now();
  const app = spawnApp(resources, `${kind} run ${run}`, 'all', env, (line) =>
    recordLogLine(line.trim(), spawnEpoch, marks),
  );
  applyNice(NICE, app.child.pid);

  let readyMs: number | undefined;
  let notReadyAnswers = 0;
  let firstNotReady: string | undefined;
  while (readyMs === undefined) {
    if (app.exitCode !== undefined) {
      throw new Error(`${kind} run ${run}: app exited (${app.exitCode}) before ready. Output:\n${app.output()}`);
    }
    if (performance.now() - started > BOOT_TIMEOUT_MS) {
      throw new Error(`${kind} run ${run}: not ready within ${BOOT_TIMEOUT_MS} ms. Output:\n${app.output()}`);
    }
    const answer = await probe('/health/ready');
    if (answer && marks.firstResponse === undefined) marks.firstResponse = Date.now() - spawnEpoch;
    if (answer?.status === 200) readyMs = performance.now() - started;
    else {
      if (answer) {
        notReadyAnswers++;
        firstNotReady ??= `${answer.status}: ${failingChecks(answer.body)}`;
      }
      await sleep(POLL_INTERVAL_MS);
    }
  }
  marks.ready = Date.now() - spawnEpoch;
  const busyDuring = busyCpus(ticksAtSpawn, cpuTicks());

  const stopStarted = performance.now();
  const exitCode = await stopProcess(app, STOP_TIMEOUT_MS);
  const stopMs = performance.now() - stopStarted;
  if (exitCode !== 0) {
    throw new Error(`${kind} run ${run}: exit ${exitCode} after SIGTERM (want 0). Output:\n${app.output()}`);
  }
  const pid = postmasterPid(dataDir);
  if (pid && alive(pid)) throw new Error(`${kind} run ${run}: embedded PostgreSQL (pid ${pid}) still running`);
  return {
    kind,
    run,
    readyMs,
    stopMs,
    exitCode,
    notReadyAnswers,
    firstNotReady,
    busyBefore,
    busyDuring,
    milestones: marks,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const contended = (r: RunResult) => busyMachine(r.busyBefore);
const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)}`);

function report(results: RunResult[]): boolean {
  console.log('\n### Runs\n');
  console.log(
    '| Kind | Run | Ready (ms) | Listening (ms) | Not-ready answers before 200 | First not-ready answer | ' +
      'Stop after SIGTERM (ms) | Exit | Busy CPUs before → during |',
  );
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---|');
  for (const r of results) {
    const busy = busyStr(r.busyBefore, r.busyDuring);
    console.log(
      `| ${r.kind} | ${r.run} | ${ms(r.readyMs)} | ${ms(r.milestones.nestListening)} | ${r.notReadyAnswers} | ` +
        `${r.firstNotReady ?? '—'} | ${ms(r.stopMs)} | ${r.exitCode} | ${busy} |`,
    );
  }

  let ok = true;
  console.log('\n### Summary (time from spawn to /health/ready 200)\n');
  console.log('| Kind | Runs | Median (ms) | Min (ms) | Max (ms) | Target | Median meets target |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const kind of ['cold', 'warm'] as Kind[]) {
    const values = results.filter((r) => r.kind === kind).map((r) => r.readyMs);
    if (!values.length) continue;
    const med = median(values);
    const meets = med < TARGET_MS[kind];
    ok &&= meets;
    console.log(
      `| ${kind} | ${values.length} | ${ms(med)} | ${ms(Math.min(...values))} | ${ms(Math.max(...values))} | ` +
        `< ${TARGET_MS[kind]} ms | ${meets ? 'yes' : 'NO'} |`,
    );
  }

  recordFigures(
    'boot',
    (['cold', 'warm'] as Kind[]).flatMap((kind) => {
      const values = results.filter((r) => r.kind === kind).map((r) => r.readyMs);
      if (!values.length) return [];
      const med = median(values);
      return [
        {
          figure: `${kind} boot, spawn → /health/ready 200 (median of ${values.length})`,
          today: `${ms(med)} ms`,
          goal: `< ${TARGET_MS[kind]} ms`,
          met: med < TARGET_MS[kind],
        },
      ];
    }),
  );

  console.log('\n### Where boot time goes (median ms since spawn at each milestone; Δ = from previous row)\n');
  console.log('| Milestone | Cold (ms) | Δ cold | Warm (ms) | Δ warm |');
  console.log('|---|---:|---:|---:|---:|');
  const prev: Record<Kind, number> = { cold: 0, warm: 0 };
  for (const [key, label] of MILESTONES) {
    const cells = (['cold', 'warm'] as Kind[]).map((kind) => {
      const values = results
        .filter((r) => r.kind === kind)
        .map((r) => r.milestones[key])
        .filter((v): v is number => v !== undefined);
      if (!values.length) return ['—', '—'];
      const med = median(values);
      const delta = med - prev[kind];
      prev[kind] = med;
      return [ms(med), ms(delta)];
    });
    console.log(`| ${label} | ${cells[0][0]} | ${cells[0][1]} | ${cells[1][0]} | ${cells[1][1]} |`);
  }
  return ok;
}

async function main(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  await assertPortsFree([PORT, HEALTH_PORT, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  applyNice(NICE);
  const tmpRoot = resources.makeTempRoot('calmops-bench-boot-');
  console.log(
    `boot bench: ${RUNS} cold + ${RUNS} warm runs, node ${process.version}, ${cpus().length} CPU(s), ` +
      `LOG_LEVEL=${LOG_LEVEL}, READINESS_CACHE_MS=${process.env.READINESS_CACHE_MS || 'default'}, ` +
      `ports ${PORT}/${PG_PORT}, data under ${tmpRoot}, load average ${loadStr()}, ` +
      `waits up to ${QUIET_WAIT_MS} ms for < ${QUIET_BUSY_CPUS} busy CPUs before each run, ` +
      `nice ${NICE ?? 'unchanged'}`,
  );

  const results: RunResult[] = [];
  const log = (r: RunResult) => {
    results.push(r);
    console.log(
      `${r.kind} run ${r.run}: ready in ${ms(r.readyMs)} ms, stopped in ${ms(r.stopMs)} ms (exit ${r.exitCode})`,
    );
  };
  let warmDir = '';
  for (let i = 1; i <= RUNS; i++) {
    const dir = resources.dataDir(tmpRoot, `cold-${i}`);
    log(await bootOnce('cold', i, dir));
    // The last cold run's data directory is the one the warm runs restart on.
    if (i < RUNS) rmSync(dir, { recursive: true, force: true });
    else warmDir = dir;
  }
  for (let i = 1; i <= RUNS; i++) log(await bootOnce('warm', i, warmDir));

  const ok = report(results);
  const busyRuns = results.filter(contended).length;
  if (busyRuns) console.log(`\n${busyRuns} run(s) started while other processes kept the machine busy.`);
  console.log(`\nLoad average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  if (!ok) console.log('\nA median missed its target.');
  await resources.cleanup();
  process.exitCode = ok ? 0 : 1;
}

installExitHandlers(
  'boot bench',
  resources,
  RUNS * 2 * (BOOT_TIMEOUT_MS + STOP_TIMEOUT_MS + QUIET_WAIT_MS + 2000) + 30000,
);
runBench('boot bench', resources, main);
