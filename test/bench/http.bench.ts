/**
 * HTTP benchmark: GET /health/live of the built app vs. a bare NestJS route, with the same
 * autocannon settings, in the same run. Run with `npm run bench:http`.
 *
 * - The app is `node dist/src/main.js all` with its own embedded PostgreSQL (temp DATA_DIR),
 *   LOG_LEVEL=warn.
 * - The bare route is a one-controller Nest app (platform-express, logger off, no guards,
 *   pipes, filters or middleware) defined in this file and served by a child process running
 *   this file with `--serve-bare`, so the load generator never shares an event loop with a server.
 * - Each round measures both targets, each after its own warm-up; the order flips every round
 *   (live→bare, bare→live, ...) so neither target always runs first.
 *
 * - "Server CPU" is the serving process's user+system CPU time per completed request, read
 *   from /proc: unlike req/s it barely moves when other work shares the machine.
 *
 * Settings (env):
 *   BENCH_CONNECTIONS (50), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (2),
 *   BENCH_PIPELINING (1), BENCH_PORT (3910; +2 is HEALTH_PORT), BENCH_BARE_PORT (3911),
 *   BENCH_PG_PORT (5910), BENCH_BOOT_TIMEOUT_MS (60000),
 *   BENCH_QUIET_WAIT_MS (90000): before each measurement, wait up to this long for other
 *     processes to use < 0.3 CPU over 1 s (0 = only take the 1 s sample),
 *   BENCH_NICE (unset): nice value for the bench, the app and the bare app, e.g. -10.
 * Exits non-zero if a server fails to start or to exit 0 on SIGTERM, or if any response is
 * non-2xx, errored or timed out.
 */
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const autocannon = require('autocannon') as (
  opts: Record<string, unknown>,
  cb: (err: Error | null, result: CannonResult) => void,
) => unknown;

interface Histogram {
  mean: number;
  p50: number;
  p99: number;
  total: number;
}

interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: Histogram;
  latency: Histogram;
}

// ---------------------------------------------------------------------------------------------
// The bare app (runs in the child process started with --serve-bare <port>)
// ---------------------------------------------------------------------------------------------

@Controller()
class BareController {
  @Get('bare')
  get(): { status: string } {
    return { status: 'ok' };
  }
}

@Module({ controllers: [BareController] })
class BareModule {}

async function serveBare(port: number): Promise<void> {
  const app = await NestFactory.create(BareModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  const stop = () => void app.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The parent holds our stdin open; when it goes away (even killed), so do we.
  process.stdin.resume();
  process.stdin.once('end', stop);
  process.stdout.write('BARE_READY\n');
}

// ---------------------------------------------------------------------------------------------
// The bench (parent process)
// ---------------------------------------------------------------------------------------------

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 50);
const DURATION_S = envNumber('BENCH_DURATION', 10);
const WARMUP_S = envNumber('BENCH_WARMUP', 2);
const ROUNDS = envNumber('BENCH_ROUNDS', 2);
const PIPELINING = envNumber('BENCH_PIPELINING', 1);
const PORT = envNumber('BENCH_PORT', 3910);
const HEALTH_PORT = PORT + 2;
const BARE_PORT = envNumber('BENCH_BARE_PORT', 3911);
const PG_PORT = envNumber('BENCH_PG_PORT', 5910);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 60000);
const STOP_TIMEOUT_MS = 40000;
const QUIET_WAIT_MS = Number(process.env.BENCH_QUIET_WAIT_MS || 90000);
if (!Number.isFinite(QUIET_WAIT_MS) || QUIET_WAIT_MS < 0) throw new Error('BENCH_QUIET_WAIT_MS must be >= 0');
const QUIET_BUSY_CPUS = 0.3;

const TARGETS = {
  live: { label: 'CalmOps GET /health/live', url: `http://127.0.0.1:${PORT}/health/live` },
  bare: { label: 'bare Nest GET /bare', url: `http://127.0.0.1:${BARE_PORT}/bare` },
} as const;
type Target = keyof typeof TARGETS;

interface Measurement {
  round: number;
  slot: number;
  target: Target;
  result: CannonResult;
  /** Busy CPUs (whole machine) in the second before the warm-up, and during the measurement. */
  busyBefore?: number;
  busyDuring?: number;
  /** CPU time the serving process spent per completed request (µs); unlike req/s, barely moved by other load. */
  cpuUsPerRequest?: number;
}

interface Spawned {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string>;
  exitCode?: number | string;
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
const children: Spawned[] = [];

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

let clockTicks: number | undefined;

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); else undefined. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / clockTicks) * 1000; // utime, stime
  } catch {
    return undefined;
  }
}

/** Waits (bounded) until the machine is nearly idle; returns the busy CPUs of the last 1 s sample. */
async function waitForQuiet(): Promise<number | undefined> {
  const started = Date.now();
  for (;;) {
    const a = cpuTicks();
    await sleep(1000);
    const busy = busyCpus(a, cpuTicks());
    if (busy === undefined || busy < QUIET_BUSY_CPUS || Date.now() - started >= QUIET_WAIT_MS) return busy;
  }
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

function get(url: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((done) => {
    const req = request(url, { agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(undefined));
    req.end();
  });
}

function track(name: string, child: ChildProcess): Spawned {
  applyNice(child.pid);
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString('utf8')).slice(-20000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawned: Spawned = {
    name,
    child,
    output: () => out,
    exited: new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'))),
  };
  void spawned.exited.then((code) => (spawned.exitCode = code));
  children.push(spawned);
  return spawned;
}

async function waitFor(spawned: Spawned, url: string, what: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (spawned.exitCode !== undefined) {
      throw new Error(`${spawned.name} exited (${spawned.exitCode}) before ${what}. Output:\n${spawned.output()}`);
    }
    if (Date.now() - started > BOOT_TIMEOUT_MS) {
      throw new Error(`${spawned.name}: no ${what} within ${BOOT_TIMEOUT_MS} ms. Output:\n${spawned.output()}`);
    }
    if ((await get(url))?.status === 200) return;
    await sleep(50);
  }
}

function startApp(dataDir: string): Spawned {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['DATABASE_URL', 'DATABASE_ADMIN_URL', 'DATABASE_SYSTEM_URL', 'APP_ROLE']) delete env[name];
  const child = spawn(process.execPath, [MAIN, 'all'], {
    cwd: ROOT,
    env: {
      ...env,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(PORT),
      HEALTH_PORT: String(HEALTH_PORT),
      EMBEDDED_PG_PORT: String(PG_PORT),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      SHUTDOWN_DELAY_MS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track('CalmOps app', child);
}

function startBare(): Spawned {
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), __filename, '--serve-bare', String(BARE_PORT)],
    { cwd: ROOT, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  return track('bare Nest app', child);
}

async function stop(spawned: Spawned): Promise<number | string> {
  if (spawned.exitCode === undefined) spawned.child.kill('SIGTERM');
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const code = await spawned.exited;
  clearTimeout(timer);
  return code;
}

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

async function cleanup(): Promise<void> {
  for (const c of children) if (c.exitCode === undefined) c.child.kill('SIGKILL');
  if (tmpRoot) {
    // The embedded PostgreSQL is detached from the app: stop it if the app could not.
    const pid = postmasterPid(join(tmpRoot, 'data'));
    if (pid && alive(pid)) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(tmpRoot, { recursive: true, force: true });
    tmpRoot = undefined;
  }
}

function cannon(url: string, durationS: number): Promise<CannonResult> {
  return new Promise((done, fail) => {
    autocannon({ url, connections: CONNECTIONS, duration: durationS, pipelining: PIPELINING }, (err, result) =>
      err ? fail(err) : done(result),
    );
  });
}

const loadStr = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
const cpu = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(2));
const us = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(0));
const fmt = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function report(measurements: Measurement[]): boolean {
  console.log(
    `\n### Runs (${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s each after a ` +
      `${WARMUP_S} s warm-up)\n`,
  );
  console.log(
    '| Round | Slot | Target | Req/s (mean) | p50 (ms) | p99 (ms) | Server CPU (µs/req) | 2xx | non-2xx | errors | ' +
      'timeouts | Busy CPUs before → during |',
  );
  console.log('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const m of measurements) {
    const r = m.result;
    const busy =
      `${cpu(m.busyBefore)} → ${cpu(m.busyDuring)}` +
      (m.busyBefore !== undefined && m.busyBefore >= QUIET_BUSY_CPUS ? ' (busy machine)' : '');
    console.log(
      `| ${m.round} | ${m.slot} | ${TARGETS[m.target].label} | ${fmt(r.requests.mean)} | ${fmt(r.latency.p50, 2)} | ` +
        `${fmt(r.latency.p99, 2)} | ${us(m.cpuUsPerRequest)} | ${fmt(r['2xx'])} | ${r.non2xx} | ${r.errors} | ` +
        `${r.timeouts} | ${busy} |`,
    );
  }

  console.log(`\n### Summary (mean over ${ROUNDS} round(s))\n`);
  console.log('| Target | Req/s (mean) | p50 (ms) | p99 (ms) | Server CPU (µs/req) | non-2xx | errors + timeouts |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const summary = {} as Record<Target, { rps: number; p50: number; p99: number; cpuUs?: number }>;
  let ok = true;
  for (const target of ['live', 'bare'] as Target[]) {
    const ms = measurements.filter((m) => m.target === target);
    const rs = ms.map((m) => m.result);
    const cpuUs = ms.map((m) => m.cpuUsPerRequest).filter((v): v is number => v !== undefined);
    summary[target] = {
      rps: mean(rs.map((r) => r.requests.mean)),
      p50: mean(rs.map((r) => r.latency.p50)),
      p99: mean(rs.map((r) => r.latency.p99)),
      cpuUs: cpuUs.length ? mean(cpuUs) : undefined,
    };
    const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
    const errors = rs.reduce((a, r) => a + r.errors + r.timeouts, 0);
    if (non2xx || errors || rs.some((r) => r['2xx'] === 0)) ok = false;
    console.log(
      `| ${TARGETS[target].label} | ${fmt(summary[target].rps)} | ${fmt(summary[target].p50, 2)} | ` +
        `${fmt(summary[target].p99, 2)} | ${us(summary[target].cpuUs)} | ${non2xx} | ${errors} |`,
    );
  }
  const ratio = summary.live.rps / summary.bare.rps;
  const perRound = [...new Set(measurements.map((m) => m.round))].map((round) => {
    const of = (t: Target) => measurements.find((m) => m.round === round && m.target === t)!.result.requests.mean;
    return (of('live') / of('bare')).toFixed(2);
  });
  console.log(
    `\nRatio live/bare (req/s): **${ratio.toFixed(2)}** (per round: ${perRound.join(', ')}); ` +
      `p99 latency live/bare: ${(summary.live.p99 / summary.bare.p99).toFixed(2)}` +
      (summary.live.cpuUs && summary.bare.cpuUs
        ? `; server CPU per request live/bare: ${(summary.live.cpuUs / summary.bare.cpuUs).toFixed(2)}`
        : ''),
  );
  return ok;
}

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  for (const port of [PORT, HEALTH_PORT, BARE_PORT, PG_PORT]) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is in use; set BENCH_PORT / BENCH_BARE_PORT / ...`);
  }
  applyNice();
  tmpRoot = mkdtempSync(join(tmpdir(), 'calmops-bench-http-'));
  chmodSync(tmpRoot, 0o755); // the postgres OS user (when we are root) must traverse it
  console.log(
    `http bench: node ${process.version}, ${cpus().length} CPU(s); ${CONNECTIONS} connections, ` +
      `${DURATION_S} s per measurement after ${WARMUP_S} s warm-up, ${ROUNDS} round(s); ` +
      `load average ${loadStr()}; nice ${NICE ?? 'unchanged'}`,
  );

  const app = startApp(join(tmpRoot, 'data'));
  const bare = startBare();
  await waitFor(app, `http://127.0.0.1:${PORT}/health/ready`, 'readiness');
  await waitFor(bare, TARGETS.bare.url, 'GET /bare 200');
  for (const target of ['live', 'bare'] as Target[]) {
    const answer = await get(TARGETS[target].url);
    console.log(`${target}: ${answer?.status} ${answer?.body}`);
  }

  const measurements: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: Target[] = round % 2 ? ['live', 'bare'] : ['bare', 'live'];
    for (const [i, target] of order.entries()) {
      const busyBefore = await waitForQuiet();
      await cannon(TARGETS[target].url, WARMUP_S);
      const server = target === 'live' ? app : bare;
      const ticks = cpuTicks();
      const cpuBefore = processCpuMs(server.child.pid);
      const result = await cannon(TARGETS[target].url, DURATION_S);
      const cpuAfter = processCpuMs(server.child.pid);
      const busyDuring = busyCpus(ticks, cpuTicks());
      const completed = result['2xx'] + result.non2xx;
      const cpuUsPerRequest =
        cpuBefore !== undefined && cpuAfter !== undefined && completed
          ? ((cpuAfter - cpuBefore) * 1000) / completed
          : undefined;
      for (const s of [app, bare]) {
        if (s.exitCode !== undefined) throw new Error(`${s.name} exited (${s.exitCode}). Output:\n${s.output()}`);
      }
      measurements.push({ round, slot: i + 1, target, result, busyBefore, busyDuring, cpuUsPerRequest });
      console.log(
        `round ${round} ${target}: ${fmt(result.requests.mean)} req/s, p50 ${result.latency.p50} ms, ` +
          `p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}, ` +
          `server CPU ${us(cpuUsPerRequest)} µs/req`,
      );
    }
  }

  const ok = report(measurements);
  console.log(`\nLoad average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  const codes = { app: await stop(app), bare: await stop(bare) };
  if (codes.app !== 0 || codes.bare !== 0) {
    throw new Error(`exit codes after SIGTERM: app ${codes.app}, bare ${codes.bare} (want 0). ${app.output()}`);
  }
  await cleanup();
  if (!ok) {
    console.log('\nFAILED: some responses were non-2xx or errored (see tables).');
    process.exitCode = 1;
  }
}

if (process.argv.includes('--serve-bare')) {
  const port = Number(process.argv[process.argv.indexOf('--serve-bare') + 1]);
  serveBare(port).catch((err: Error) => {
    process.stderr.write(`bare app failed: ${err.stack}\n`);
    process.exit(1);
  });
} else {
  const watchdog = setTimeout(
    () => {
      console.error('http bench: overall time limit reached');
      void cleanup().finally(() => process.exit(1));
    },
    2 * BOOT_TIMEOUT_MS + ROUNDS * 2 * ((WARMUP_S + DURATION_S + 15) * 1000 + QUIET_WAIT_MS) + 2 * STOP_TIMEOUT_MS,
  );
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`http bench: ${signal}, cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  bench().catch(async (err: Error) => {
    console.error(`http bench failed: ${err.message}`);
    await cleanup();
    process.exit(1);
  });
}
