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
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const RUNS = envInt('BENCH_RUNS', 5);
const PORT = envInt('BENCH_PORT', 3900);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envInt('BENCH_PG_PORT', 5900);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'debug';
const BOOT_TIMEOUT_MS = envInt('BENCH_BOOT_TIMEOUT_MS', 60000);
const STOP_TIMEOUT_MS = envInt('BENCH_STOP_TIMEOUT_MS', 40000);
const QUIET_WAIT_MS = Number(process.env.BENCH_QUIET_WAIT_MS || 90000);
if (!Number.isFinite(QUIET_WAIT_MS) || QUIET_WAIT_MS < 0) throw new Error('BENCH_QUIET_WAIT_MS must be >= 0');
const QUIET_BUSY_CPUS = 0.3;
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
const NICE = process.env.BENCH_NICE ? Number(process.env.BENCH_NICE) : undefined;

function applyNice(pid?: number): void {
  if (NICE === undefined) return;
  try {
    setPriority(pid ?? 0, NICE);
  } catch (err) {
    console.warn(`could not set nice ${NICE} on ${pid ?? 'the bench'}: ${(err as Error).message}`);
  }
}

let tmpRoot: string | undefined;
let current: { child: ChildProcess; dataDir: string } | undefined;

function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Machine-wide CPU counters (Linux /proc/stat), in clock ticks; undefined elsewhere. */
function cpuTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = fields[3] + (fields[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** CPUs kept busy between two samples (0 … number of CPUs). */
function busyCpus(a?: { busy: number; total: number }, b?: { busy: number; total: number }): number | undefined {
  if (!a || !b || b.total === a.total) return undefined;
  return ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
}

/**
 * Waits (bounded) until the machine is nearly idle, since other work on a 2-CPU box skews boot
 * times badly. Returns the busy CPUs of the last 1 s sample and how long we waited.
 */
async function waitForQuiet(): Promise<{ busy?: number; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const a = cpuTicks();
    await sleep(1000);
    const busy = busyCpus(a, cpuTicks());
    const waitedMs = Date.now() - started;
    if (busy === undefined || busy < QUIET_BUSY_CPUS || waitedMs >= QUIET_WAIT_MS) return { busy, waitedMs };
  }
}

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

/** PID of the postmaster running on a data directory, if its pid file is there. */
function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Last-resort cleanup: kill the app we spawned and the (detached) postmaster of its data dir. */
async function killCurrent(): Promise<void> {
  if (!current) return;
  const { child, dataDir } = current;
  current = undefined;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const pid = postmasterPid(dataDir);
  if (pid && alive(pid)) {
    try {
      process.kill(pid, 'SIGINT'); // fast shutdown
    } catch {
      /* already gone */
    }
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

async function cleanup(): Promise<void> {
  await killCurrent();
  if (tmpRoot) rmSync(tmpRoot, { recursive: true, force: true });
  tmpRoot = undefined;
}

function childEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATABASE_ADMIN_URL', 'DATABASE_SYSTEM_URL', 'APP_ROLE']) delete env[name];
  return {
    ...env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(PORT),
    HEALTH_PORT: String(HEALTH_PORT),
    EMBEDDED_PG_PORT: String(PG_PORT),
    DATA_DIR: dataDir,
    LOG_LEVEL,
    SHUTDOWN_DELAY_MS: '0',
  };
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
  const quiet = await waitForQuiet();
  const marks: Partial<Record<Milestone, number>> = {};
  let output = '';
  const ticksAtSpawn = cpuTicks();
  const spawnEpoch = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, 'all'], {
    cwd: ROOT,
    env: childEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  applyNice(child.pid);
  current = { child, dataDir };
  let pending = '';
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-20000);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) recordLogLine(line.trim(), spawnEpoch, marks);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')),
  );
  let exitedEarly: number | string | undefined;
  void exited.then((code) => (exitedEarly = code));

  let readyMs: number | undefined;
  let notReadyAnswers = 0;
  let firstNotReady: string | undefined;
  while (readyMs === undefined) {
    if (exitedEarly !== undefined) {
      throw new Error(`${kind} run ${run}: app exited (${exitedEarly}) before ready. Output:\n${output}`);
    }
    if (performance.now() - started > BOOT_TIMEOUT_MS) {
      throw new Error(`${kind} run ${run}: not ready within ${BOOT_TIMEOUT_MS} ms. Output:\n${output}`);
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
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const exitCode = await exited;
  clearTimeout(timer);
  const stopMs = performance.now() - stopStarted;
  if (exitCode !== 0) {
    throw new Error(`${kind} run ${run}: exit ${exitCode} after SIGTERM (want 0). Output:\n${output}`);
  }
  const pid = postmasterPid(dataDir);
  if (pid && alive(pid)) throw new Error(`${kind} run ${run}: embedded PostgreSQL (pid ${pid}) still running`);
  current = undefined;
  return {
    kind,
    run,
    readyMs,
    stopMs,
    exitCode,
    notReadyAnswers,
    firstNotReady,
    busyBefore: quiet.busy,
    busyDuring,
    milestones: marks,
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const loadStr = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const cpu = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(2));
const contended = (r: RunResult) => r.busyBefore !== undefined && r.busyBefore >= QUIET_BUSY_CPUS;
const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)}`);

function report(results: RunResult[]): boolean {
  console.log('\n### Runs\n');
  console.log(
    '| Kind | Run | Ready (ms) | Listening (ms) | Not-ready answers before 200 | First not-ready answer | ' +
      'Stop after SIGTERM (ms) | Exit | Busy CPUs before → during |',
  );
  console.log('|---|---:|---:|---:|---:|---|---:|---:|---|');
  for (const r of results) {
    const busy = `${cpu(r.busyBefore)} → ${cpu(r.busyDuring)}${contended(r) ? ' (busy machine)' : ''}`;
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
  for (const port of [PORT, HEALTH_PORT, PG_PORT]) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is in use; set BENCH_PORT / BENCH_PG_PORT`);
  }
  applyNice();
  tmpRoot = mkdtempSync(join(tmpdir(), 'calmops-bench-boot-'));
  // PostgreSQL runs as the `postgres` OS user when we are root: it must traverse this directory.
  chmodSync(tmpRoot, 0o755);
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
    const dir = join(tmpRoot, `cold-${i}`);
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
  await cleanup();
  process.exitCode = ok ? 0 : 1;
}

const watchdog = setTimeout(
  () => {
    console.error('boot bench: overall time limit reached');
    void cleanup().finally(() => process.exit(1));
  },
  RUNS * 2 * (BOOT_TIMEOUT_MS + STOP_TIMEOUT_MS + QUIET_WAIT_MS + 2000) + 30000,
);
watchdog.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`boot bench: ${signal}, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

main().catch(async (err: Error) => {
  console.error(`boot bench failed: ${err.message}`);
  await cleanup();
  process.exit(1);
});
