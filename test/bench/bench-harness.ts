/**
 * Generic pieces of the benchmarks in this folder: settings from the environment, spawning the
 * built app (`node dist/src/main.js <role>`) on its own embedded PostgreSQL in a temp DATA_DIR,
 * waiting for readiness, stopping (SIGTERM, then SIGKILL), connecting to the embedded database
 * as one of its roles, CPU sampling of processes and of the machine via /proc (Linux; other
 * systems get zeros / undefined), waiting for a quiet machine, percentiles and formatting.
 *
 * Nothing here starts work on import. Every process, client and temp directory a bench creates
 * goes through a `BenchResources`, whose `cleanup()` (also run on SIGINT / SIGTERM and by the
 * watchdog of `installExitHandlers`) leaves nothing behind.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { cpus, loadavg, setPriority, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';

/** The repository root and the built entry point the benches run. */
export const ROOT = resolve(__dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

/** The embedded cluster's database (libs/database/embedded-database.ts). */
export const EMBEDDED_DATABASE = 'calmops';

/** Environment variables that would point the app at another database; benches remove them. */
export const DATABASE_ENV = ['DATABASE_URL', 'DATABASE_ADMIN_URL', 'DATABASE_SYSTEM_URL', 'APP_ROLE'];

/** Busy CPUs (machine-wide, over 1 s) under which the machine counts as quiet. */
export const QUIET_BUSY_CPUS = 0.3;

/** USER_HZ is 100 on Linux: /proc times are in 10 ms ticks. */
const CLOCK_TICK_MS = 10;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wall-clock milliseconds with sub-millisecond precision (comparable across processes). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/**
 * A non-negative integer setting from the environment (`fallback` when unset or empty). Zero is
 * refused unless `allowZero`; anything else that is not an integer throws.
 */
export function envNumber(name: string, fallback: number, allowZero = false): number {
  return envSetting(name, fallback, allowZero, true);
}

/**
 * Like envNumber, but fractions are allowed (any finite value, e.g. BENCH_DURATION=2.5). Zero is
 * refused unless `allowZero`.
 */
export function envDecimal(name: string, fallback: number, allowZero = false): number {
  return envSetting(name, fallback, allowZero, false);
}

function envSetting(name: string, fallback: number, allowZero: boolean, integer: boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!(integer ? Number.isInteger(value) : Number.isFinite(value)) || value < 0 || (value === 0 && !allowZero)) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got "${raw}"`);
  }
  return value;
}

/** BENCH_NICE: a nice value for the bench and the processes it starts; undefined = leave priorities alone. */
export function envNice(): number | undefined {
  return process.env.BENCH_NICE ? Number(process.env.BENCH_NICE) : undefined;
}

/**
 * Sets `nice` (from envNice; undefined = do nothing) on `pid`, or on this process without one. The
 * processes a child starts (the embedded PostgreSQL) inherit it. A failure is only a warning.
 */
export function applyNice(nice: number | undefined, pid?: number): void {
  if (nice === undefined) return;
  try {
    setPriority(pid ?? 0, nice);
  } catch (err) {
    console.warn(`could not set nice ${nice} on ${pid ?? 'the bench'}: ${(err as Error).message}`);
  }
}

/** A comma-separated list of integers in [min, max] from the environment. */
export function envIntList(name: string, fallback: string, min: number, max: number): number[] {
  return (process.env[name] || fallback).split(',').map((v) => {
    const n = Number(v.trim());
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: bad value "${v}" (${min}..${max})`);
    return n;
  });
}

// ---------------------------------------------------------------------------------------------
// Machine and process sampling (/proc)
// ---------------------------------------------------------------------------------------------

export interface CpuTicks {
  busy: number;
  total: number;
}

/** Machine-wide CPU counters (Linux /proc/stat), in clock ticks; undefined elsewhere. */
export function cpuTicks(): CpuTicks | undefined {
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
export function busyCpus(a?: CpuTicks, b?: CpuTicks): number | undefined {
  if (!a || !b || b.total === a.total) return undefined;
  return ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
}

/**
 * Waits (at most `maxWaitMs`) until the machine uses fewer than `threshold` CPUs over 1 s;
 * returns the busy CPUs of the last 1 s sample. `maxWaitMs` 0 samples once and returns.
 */
export async function waitForQuiet(maxWaitMs: number, threshold = QUIET_BUSY_CPUS): Promise<number | undefined> {
  const started = Date.now();
  for (;;) {
    const a = cpuTicks();
    await sleep(1000);
    const busy = busyCpus(a, cpuTicks());
    if (busy === undefined || busy < threshold || Date.now() - started >= maxWaitMs) return busy;
  }
}

/** The fields of /proc/<pid>/stat after the command name (state is [0], ppid [1]). */
export function procStat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU ms of a process (plus its waited-for children with `withChildren`); 0 when gone. */
export function processCpuMs(pid: number, withChildren = false): number {
  const f = procStat(pid);
  if (!f) return 0;
  // utime(11) stime(12) cutime(13) cstime(14)
  const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
  return ticks * CLOCK_TICK_MS;
}

/** CPU ms of the embedded PostgreSQL: the postmaster, its exited children and its live backends. */
export function postgresCpuMs(postmaster: number | undefined): number {
  if (!postmaster) return 0;
  let total = processCpuMs(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(Number(entry));
    if (f && Number(f[1]) === postmaster) total += processCpuMs(Number(entry));
  }
  return total;
}

/** A field of /proc/<pid>/status in MB (VmRSS, VmHWM); 0 when the process is gone. */
export function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU ms of this process (user + system). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface CpuSample<K extends string = string> {
  /** Wall time of the sample window. */
  wallMs: number;
  /** Busy CPUs of the whole machine over the window. */
  busyCpus?: number;
  /** CPU ms per named process group during the window. */
  ms: Record<K, number>;
}

/**
 * Starts measuring the CPU of named process groups: each is a function returning its
 * cumulative CPU ms (e.g. `() => processCpuMs(pid)`, `() => postgresCpuMs(postmaster)`,
 * `selfCpuMs`). The returned function ends the window.
 */
export function startCpuSample<K extends string>(groups: Record<K, () => number>): () => CpuSample<K> {
  const started = Date.now();
  const ticks = cpuTicks();
  const entries = Object.entries(groups) as [K, () => number][];
  const before = Object.fromEntries(entries.map(([k, f]) => [k, f()])) as Record<K, number>;
  return () => ({
    wallMs: Date.now() - started,
    busyCpus: busyCpus(ticks, cpuTicks()),
    ms: Object.fromEntries(entries.map(([k, f]) => [k, f() - before[k]])) as Record<K, number>,
  });
}

/** One line on the machine: Node version, CPUs (model), memory, load average. */
export function machineInfo(): string {
  const list = cpus();
  return (
    `node ${process.version}, ${list.length} CPU(s) (${list[0]?.model.trim() ?? '?'}), ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GB RAM, load average ${loadStr()}`
  );
}

// ---------------------------------------------------------------------------------------------
// Resources and cleanup
// ---------------------------------------------------------------------------------------------

export interface Spawned {
  name: string;
  child: ChildProcess;
  /** The last 20,000 characters of stdout + stderr. */
  output: () => string;
  exited: Promise<number | string>;
  exitCode?: number | string;
}

/**
 * What a bench must clean up: child processes, database clients, embedded PostgreSQL data
 * directories (their postmaster is detached from the app), temp directories, extra closers.
 */
export class BenchResources {
  readonly children: Spawned[] = [];
  readonly clients: Client[] = [];
  readonly dataDirs: string[] = [];
  private readonly tmpRoots: string[] = [];
  private readonly closers: (() => Promise<unknown>)[] = [];

  /** A fresh temp directory (removed by cleanup), traversable by the postgres OS user when we are root. */
  makeTempRoot(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(dir, 0o755);
    this.tmpRoots.push(dir);
    return dir;
  }

  /** A DATA_DIR under `tmpRoot` whose embedded PostgreSQL cleanup stops if the app could not. */
  dataDir(tmpRoot: string, name = 'data'): string {
    const dir = join(tmpRoot, name);
    this.dataDirs.push(dir);
    return dir;
  }

  /** Something else to close on cleanup (run before processes are killed). */
  onCleanup(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /**
   * Keeps the output of a child process and its exit code. `onLine` sees every complete line
   * of stdout and stderr.
   */
  track(name: string, child: ChildProcess, onLine?: (line: string) => void): Spawned {
    let out = '';
    let partial = '';
    const keep = (c: Buffer) => {
      const text = c.toString('utf8');
      out = (out + text).slice(-20000);
      if (!onLine) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const spawned: Spawned = {
      name,
      child,
      output: () => out,
      exited: new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown'))),
    };
    void spawned.exited.then((code) => (spawned.exitCode = code));
    this.children.push(spawned);
    return spawned;
  }

  /** A `pg` client, connected, closed by cleanup unless `release`d first. */
  async connect(url: string, applicationName: string): Promise<Client> {
    const client = new Client({ connectionString: url, application_name: applicationName });
    client.on('error', (err) => console.error(`${applicationName}: ${err.message}`));
    await client.connect();
    this.clients.push(client);
    return client;
  }

  async release(client: Client): Promise<void> {
    const i = this.clients.indexOf(client);
    if (i >= 0) this.clients.splice(i, 1);
    await client.end();
  }

  /** Closes everything: closers, clients, children (SIGKILL), postmasters, temp directories. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.closers.splice(0).map((c) => c()));
    await Promise.allSettled(this.clients.splice(0).map((c) => c.end()));
    for (const c of this.children) if (c.exitCode === undefined) c.child.kill('SIGKILL');
    for (const dir of this.dataDirs.splice(0)) await stopPostmaster(dir);
    for (const dir of this.tmpRoots.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Cleans up and exits on SIGINT / SIGTERM (exit 130), and after `timeLimitMs` (exit 1). The
 * watchdog timer does not keep the process alive.
 */
export function installExitHandlers(benchName: string, resources: BenchResources, timeLimitMs: number): void {
  const watchdog = setTimeout(() => {
    console.error(`${benchName}: overall time limit (${Math.round(timeLimitMs / 1000)} s) reached`);
    void resources.cleanup().finally(() => process.exit(1));
  }, timeLimitMs);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`${benchName}: ${signal}, cleaning up`);
      void resources.cleanup().finally(() => process.exit(130));
    });
  }
}

/**
 * Runs `main`; when it throws, prints "<benchName> failed: <message>", cleans up and exits 1.
 * What `main` sets as process.exitCode stands.
 */
export function runBench(benchName: string, resources: BenchResources, main: () => Promise<void>): void {
  main().catch(async (err: Error) => {
    console.error(`${benchName} failed: ${err.message}`);
    await resources.cleanup();
    process.exit(1);
  });
}

// ---------------------------------------------------------------------------------------------
// The app
// ---------------------------------------------------------------------------------------------

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Throws when one of the ports is taken on 127.0.0.1 (`hint` says which setting moves it). */
export async function assertPortsFree(ports: number[], hint: string): Promise<void> {
  for (const port of ports) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} is in use; ${hint}`);
  }
}

/** Plans with a per-org hourly rate limit (RATE_LIMIT_<PLAN>_PER_HOUR). */
export type RatePlan = 'FREE' | 'PRO' | 'ENTERPRISE';

export interface AppEnvOptions {
  /** Plans whose rate limit is set to 100,000,000; default all three, [] leaves them as inherited. */
  unlimitedPlans?: readonly RatePlan[];
  /** Inherited variables to remove besides DATABASE_ENV (e.g. JWT_SECRET). */
  remove?: readonly string[];
}

/**
 * The environment of an app process: the inherited one without the database variables, the
 * embedded PostgreSQL on `pgPort` with its data in `dataDir`, NODE_ENV=development,
 * HOST=127.0.0.1, LOG_LEVEL=warn, SHUTDOWN_DELAY_MS=0 and every per-org rate limit at
 * 100,000,000 (counted on every request, never blocking; `options.unlimitedPlans` narrows that),
 * then `overrides`.
 */
export function appEnv(
  dataDir: string,
  pgPort: number,
  overrides: Record<string, string> = {},
  options: AppEnvOptions = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [...DATABASE_ENV, ...(options.remove ?? [])]) delete env[name];
  const plans = options.unlimitedPlans ?? (['FREE', 'PRO', 'ENTERPRISE'] as const);
  return {
    ...env,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    EMBEDDED_PG_PORT: String(pgPort),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    SHUTDOWN_DELAY_MS: '0',
    ...Object.fromEntries(plans.map((plan) => [`RATE_LIMIT_${plan}_PER_HOUR`, '100000000'])),
    ...overrides,
  };
}

/** Spawns `node dist/src/main.js <role>` with `env` (see appEnv), tracked by `resources`. */
export function spawnApp(
  resources: BenchResources,
  name: string,
  role: 'api' | 'worker' | 'all',
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): Spawned {
  const child = spawn(process.execPath, [MAIN, role], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return resources.track(name, child, onLine);
}

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpOptions {
  port: number;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  host?: string;
  agent?: Agent | false;
  timeoutMs?: number;
}

/** One HTTP request; undefined on a connection error or timeout. */
export function httpRequest(o: HttpOptions): Promise<HttpAnswer | undefined> {
  return new Promise((done) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const headers = o.headers ?? {};
    const req = request(
      {
        host: o.host ?? '127.0.0.1',
        port: o.port,
        path: o.path,
        method: o.method,
        agent: o.agent ?? false,
        timeout: o.timeoutMs ?? 10_000,
        headers: payload
          ? { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
          : headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.once('end', () => done({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.once('timeout', () => req.destroy());
    req.once('error', () => done(undefined));
    req.end(payload);
  });
}

/**
 * Waits until `GET <path>` on `port` answers 200 and `extra()` (if given) returns a value; fails
 * when the process exits first or after `timeoutMs`.
 */
export async function waitForReady<T = true>(
  spawned: Spawned,
  port: number,
  timeoutMs: number,
  extra?: () => T | undefined,
  path = '/health/ready',
): Promise<T> {
  const started = Date.now();
  for (;;) {
    if (spawned.exitCode !== undefined) {
      throw new Error(`${spawned.name} exited (${spawned.exitCode}) before it was ready. Output:\n${spawned.output()}`);
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`${spawned.name}: not ready within ${timeoutMs} ms. Output:\n${spawned.output()}`);
    }
    if ((await httpRequest({ port, method: 'GET', path, timeoutMs: 5000 }))?.status === 200) {
      const value = extra ? extra() : (true as T);
      if (value !== undefined) return value;
    }
    await sleep(100);
  }
}

export interface DemoCredentials {
  org_id: string;
  api_key: string;
}

/** DATA_DIR/demo-credentials.json once it is completely written (the api / all roles write it). */
export function readDemoCredentials(dataDir: string): DemoCredentials | undefined {
  const file = join(dataDir, 'demo-credentials.json');
  if (!existsSync(file)) return undefined;
  try {
    const creds = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>;
    return creds.org_id && creds.api_key ? { org_id: creds.org_id, api_key: creds.api_key } : undefined;
  } catch {
    return undefined; // being written
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves to the exit code (or signal). */
export async function stopProcess(spawned: Spawned, timeoutMs = 40_000): Promise<number | string> {
  if (spawned.exitCode === undefined) spawned.child.kill('SIGTERM');
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), timeoutMs);
  const code = await spawned.exited;
  clearTimeout(timer);
  return code;
}

/** Log lines (pino JSON) at warn or above, counted by level and message. */
export class LogProblems {
  readonly counts = new Map<string, number>();
  total = 0;

  /** Feed every line of a process (BenchResources.track's onLine). */
  line(source: string, line: string): void {
    let level = 0;
    let msg = line;
    try {
      const parsed = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      level = parsed.level ?? 0;
      msg = parsed.msg ?? parsed.err?.message ?? line;
    } catch {
      level = /error|warn|fatal|exception/i.test(line) ? 40 : 0; // not JSON: judge by the words
    }
    if (level < 40) return;
    const name = level >= 60 ? 'fatal' : level >= 50 ? 'error' : 'warn';
    const key = `${source} ${name}: ${msg.slice(0, 200)}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.total++;
  }

  /** The most frequent entries, "count × source level: message". */
  top(n = 15): string[] {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${v} × ${k}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Embedded PostgreSQL
// ---------------------------------------------------------------------------------------------

export function postmasterPid(dataDir: string): number | undefined {
  const file = join(dataDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return pid > 0 ? pid : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fast shutdown of the embedded PostgreSQL of `dataDir` if it still runs (SIGKILL after 10 s). */
export async function stopPostmaster(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (!pid || !alive(pid)) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    /* gone */
  }
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Login roles of the embedded cluster (libs/database/database-roles.ts) and their secrets' keys. */
export const EMBEDDED_ROLES = {
  superuser: { user: 'postgres', secret: 'superuser' },
  owner: { user: 'calmops_owner', secret: 'owner' },
  runtime: { user: 'calmops_app', secret: 'runtime' },
  system: { user: 'calmops_sys', secret: 'system' },
} as const;

export type EmbeddedRole = keyof typeof EMBEDDED_ROLES;

/** URL of the embedded database as one of its roles (passwords from DATA_DIR/embedded-postgres-secrets.json). */
export function embeddedUrl(dataDir: string, pgPort: number, role: EmbeddedRole): string {
  const secrets = JSON.parse(readFileSync(join(dataDir, 'embedded-postgres-secrets.json'), 'utf8')) as Record<
    string,
    string
  >;
  const { user, secret } = EMBEDDED_ROLES[role];
  return `postgres://${user}:${encodeURIComponent(secrets[secret])}@127.0.0.1:${pgPort}/${EMBEDDED_DATABASE}`;
}

// ---------------------------------------------------------------------------------------------
// Load generation (autocannon)
// ---------------------------------------------------------------------------------------------

/** The parts of an autocannon histogram the benches read. */
export interface CannonHistogram {
  mean: number;
  p50: number;
  p99: number;
  total: number;
}

/** The parts of an autocannon result the benches read. */
export interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  requests: CannonHistogram;
  latency: CannonHistogram;
  statusCodeStats?: Record<string, { count: number }>;
}

/** One autocannon run with `opts` (url, connections, duration, …); autocannon is loaded on first use. */
export function runAutocannon(opts: Record<string, unknown>): Promise<CannonResult> {
  const autocannon = require('autocannon') as (
    o: Record<string, unknown>,
    cb: (err: Error | null, result: CannonResult) => void,
  ) => unknown;
  return new Promise((done, fail) => autocannon(opts, (err, result) => (err ? fail(err) : done(result))));
}

// ---------------------------------------------------------------------------------------------
// Statistics and formatting
// ---------------------------------------------------------------------------------------------

export interface Stats {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles; undefined for no values. */
export function stats(values: ArrayLike<number>): Stats | undefined {
  if (!values.length) return undefined;
  const v = Float64Array.from(values).sort();
  const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
  let sum = 0;
  for (const x of v) sum += x;
  return { n: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v[v.length - 1], mean: sum / v.length };
}

export const loadStr = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** A number with thousands separators and at most `digits` decimals. */
export const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { maximumFractionDigits: digits });

/** Milliseconds with one decimal, "—" when undefined. */
export const msStr = (v: number | undefined, digits = 1): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);

/** Busy CPUs with two decimals, "?" when unknown. */
export const cpuStr = (v: number | undefined): string => (v === undefined ? '?' : v.toFixed(2));

/** Whether the machine was busy (≥ QUIET_BUSY_CPUS) in the sample before a measurement. */
export const busyMachine = (before: number | undefined): boolean => before !== undefined && before >= QUIET_BUSY_CPUS;

/** A "Busy CPUs before → during" table cell, flagged " (busy machine)" when `busyMachine(before)`. */
export const busyStr = (before: number | undefined, during: number | undefined): string =>
  `${cpuStr(before)} → ${cpuStr(during)}${busyMachine(before) ? ' (busy machine)' : ''}`;

export const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
