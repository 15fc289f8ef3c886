/**
 * Identity benchmark: requests/s of the authenticated `GET /api/orgs/me` (with an API key and with
 * a JWT) against the public `GET /health/live`, with the same autocannon settings, in the same
 * run. Goal: each authenticated variant reaches ≥ 70 % of the public route's requests/s.
 * Run with `npm run bench:auth`.
 *
 * - The app is `node dist/src/main.js all` with its own embedded PostgreSQL (temp DATA_DIR),
 *   LOG_LEVEL=warn and RATE_LIMIT_PRO_PER_HOUR / RATE_LIMIT_FREE_PER_HOUR = 100,000,000: the rate
 *   limiter counts (one PostgreSQL upsert per authenticated request) but never blocks.
 * - Credentials: the demo org's API key from DATA_DIR/demo-credentials.json (written on the first
 *   start); a viewer JWT from `node dist/src/main.js task issue-token` on the same DATA_DIR.
 * - Each round measures the three targets, each after its own warm-up; the order rotates every
 *   round. Every answer must be 2xx; non-2xx, errors and timeouts are reported and fail the bench.
 * - Where time goes (always measured, printed after the summary):
 *   CPU time per request of the app process, of the embedded PostgreSQL (postmaster and backends)
 *   and of the load generator (this process), from /proc, during each measurement;
 *   the same three targets with 1 connection (latency without queueing);
 *   and the SQL an authenticated request runs, replayed from here with `pg` on as many
 *   connections as one app pool has (DATABASE_POOL_SIZE, 10): the rate-limit upsert (system
 *   role, one hot key like the app's per-org key), the tenant transaction of /api/orgs/me
 *   (runtime role: BEGIN, set_config, SELECT, COMMIT), and both in sequence.
 *
 * Settings (env): BENCH_CONNECTIONS (50), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (2),
 * BENCH_PIPELINING (1), BENCH_PORT (3920; +2 is HEALTH_PORT), BENCH_PG_PORT (5920),
 * BENCH_PROFILE_DURATION (5 s per 1-connection run and per SQL replay; 0 = skip that part),
 * BENCH_BOOT_TIMEOUT_MS (90000), BENCH_QUIET_WAIT_MS (30000: before each measurement wait up to
 * this long for other processes to use < 0.3 CPU over 1 s; 0 = never wait).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Client } from 'pg';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  busyStr,
  CannonResult,
  cpuStr,
  embeddedUrl,
  envDecimal,
  envIntList,
  fmt,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  mean,
  postgresCpuMs,
  postmasterPid,
  processCpuMs,
  readDemoCredentials,
  ROOT,
  runAutocannon,
  runBench,
  selfCpuMs,
  spawnApp,
  startCpuSample,
  stopProcess,
  waitForQuiet,
  waitForReady,
} from './bench-harness';
import { recordFigures } from './summary';

const CONNECTIONS = envDecimal('BENCH_CONNECTIONS', 50);
const DURATION_S = envDecimal('BENCH_DURATION', 10);
const WARMUP_S = envDecimal('BENCH_WARMUP', 2);
const ROUNDS = envDecimal('BENCH_ROUNDS', 2);
const PIPELINING = envDecimal('BENCH_PIPELINING', 1);
const PORT = envDecimal('BENCH_PORT', 3920);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envDecimal('BENCH_PG_PORT', 5920);
const PROFILE_S = envDecimal('BENCH_PROFILE_DURATION', 5, true);
const BOOT_TIMEOUT_MS = envDecimal('BENCH_BOOT_TIMEOUT_MS', 90000);
const STOP_TIMEOUT_MS = 40000;
const QUIET_WAIT_MS = envDecimal('BENCH_QUIET_WAIT_MS', 30000, true);
/** Connections per app pool (DATABASE_POOL_SIZE default): the SQL replay uses as many. */
const POOL_SIZE = 10;
const GOAL_RATIO = 0.7;
const RATE_LIMIT = '100000000';

const TARGETS = ['live', 'key', 'jwt'] as const;
type Target = (typeof TARGETS)[number];
const LABELS: Record<Target, string> = {
  live: 'GET /health/live (public)',
  key: 'GET /api/orgs/me, X-API-Key',
  jwt: 'GET /api/orgs/me, Bearer JWT',
};

type Cpu = Record<'app' | 'pg' | 'bench', number>;

interface Measurement {
  round: number;
  slot: number;
  target: Target;
  result: CannonResult;
  /** Busy CPUs (whole machine) in the second before the warm-up, and during the measurement. */
  busyBefore?: number;
  busyDuring?: number;
  /** CPU ms spent during the measurement by the app, the embedded PostgreSQL and this process. */
  cpuMs?: Cpu;
}

const resources = new BenchResources();

function get(url: string, headers: Record<string, string> = {}) {
  const { port, pathname } = new URL(url);
  return httpRequest({ port: Number(port), method: 'GET', path: pathname, headers, timeoutMs: 2000 });
}

/** The app's environment; `task issue-token` gets the same. */
function env(dataDir: string): NodeJS.ProcessEnv {
  return appEnv(
    dataDir,
    PG_PORT,
    { PORT: String(PORT), HEALTH_PORT: String(HEALTH_PORT) },
    { unlimitedPlans: ['PRO', 'FREE'], remove: ['JWT_SECRET'] },
  );
}

/**
 * BENCH_ORG_COUNTS ("1,10,1000"): that many orgs (pro plan, so never limited here), one API key
 * each, seeded as superuser; autocannon rotates over their keys, so each request is another
 * org's key lookup (cached API_KEY_CACHE_TTL_MS), rate-limit bucket and tenant transaction.
 */
async function orgSpread(
  dir: string,
  base: string,
  appPid: number,
  pgPid: number | undefined,
): Promise<{ orgs: number; result: CannonResult; cpuMs: Cpu }[]> {
  const counts = envIntList('BENCH_ORG_COUNTS', '1,10,1000', 1, 100_000);
  if (!counts.length) return [];
  const { generateApiKey } = require(join(ROOT, 'dist', 'libs', 'auth', 'api-key-format.js')) as {
    generateApiKey(): { key: string; prefix: string; last4: string; hash: string };
  };
  const most = Math.max(...counts);
  const keys = Array.from({ length: most }, () => generateApiKey());
  const su = await resources.connect(embeddedUrl(dir, PG_PORT, 'superuser'), 'calmops:bench-auth-orgs');
  const orgIds = keys.map(() => randomUUID());
  await su.query(
    `INSERT INTO orgs (id, name, plan) SELECT id, 'Bench org ' || n, 'pro' FROM unnest($1::uuid[]) WITH ORDINALITY AS o(id, n)`,
    [orgIds],
  );
  await su.query(
    `INSERT INTO api_keys (org_id, name, prefix, last4, key_hash, scopes, created_by)
     SELECT k.org_id, 'bench', k.prefix, k.last4, k.hash, ARRAY['orgs:read'], 'bench'
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS k(org_id, prefix, last4, hash)`,
    [orgIds, keys.map((k) => k.prefix), keys.map((k) => k.last4), keys.map((k) => k.hash)],
  );
  await su.query('ANALYZE orgs, api_keys');
  await resources.release(su);
  const out: { orgs: number; result: CannonResult; cpuMs: Cpu }[] = [];
  for (const n of counts) {
    let next = 0;
    const opts = {
      url: `${base}/api/orgs/me`,
      connections: CONNECTIONS,
      pipelining: PIPELINING,
      requests: [
        {
          method: 'GET',
          setupRequest: (req: Record<string, unknown>) => ({
            ...req,
            headers: { ...(req.headers as object), 'x-api-key': keys[next++ % n].key },
          }),
        },
      ],
    };
    await waitForQuiet(QUIET_WAIT_MS);
    await runAutocannon({ ...opts, duration: WARMUP_S });
    const { value: result, cpuMs } = await withCpu(appPid, pgPid, () =>
      runAutocannon({ ...opts, duration: DURATION_S }),
    );
    out.push({ orgs: n, result, cpuMs });
    console.log(
      `${n} org(s): ${fmt(result.requests.mean)} req/s, p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}`,
    );
  }
  return out;
}

/** `task issue-token` on the same DATA_DIR (it reuses the running embedded server); the token is the last line. */
async function issueToken(dataDir: string, orgId: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [MAIN, 'task', 'issue-token', '--org', orgId, '--role', 'viewer', '--ttl', '3600'],
    { cwd: ROOT, env: env(dataDir), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), BOOT_TIMEOUT_MS);
  const code = await new Promise<number | string>((done) =>
    child.once('exit', (c, signal) => done(c ?? signal ?? 'unknown')),
  );
  clearTimeout(timer);
  const token = stdout.trim().split('\n').pop()?.trim() ?? '';
  if (code !== 0 || !/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    throw new Error(`task issue-token failed (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return token;
}

function cannon(url: string, headers: Record<string, string>, durationS: number, connections: number) {
  return runAutocannon({ url, headers, connections, duration: durationS, pipelining: PIPELINING });
}

/** Runs `work`; returns CPU ms of the app, PostgreSQL and this process meanwhile, and the machine's busy CPUs. */
async function withCpu<T>(appPid: number, pgPid: number | undefined, work: () => Promise<T>) {
  const stop = startCpuSample<keyof Cpu>({
    app: () => processCpuMs(appPid),
    pg: () => postgresCpuMs(pgPid),
    bench: selfCpuMs,
  });
  const value = await work();
  const sample = stop();
  return { value, cpuMs: sample.ms, busyDuring: sample.busyCpus };
}

// ---------------------------------------------------------------------------------------------
// SQL replay: the statements of one authenticated request, from here, on POOL_SIZE connections
// ---------------------------------------------------------------------------------------------

interface Replay {
  label: string;
  ops: number;
  seconds: number;
  meanMs: number;
}

const UPSERT_SQL = `INSERT INTO rate_limit_counters AS c (key, hits, expires_at)
       VALUES ($1, 1, clock_timestamp() + make_interval(secs => $2 / 1000.0))
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.expires_at <= clock_timestamp() THEN 1 ELSE c.hits + 1 END,
         expires_at = CASE WHEN c.expires_at <= clock_timestamp()
                           THEN clock_timestamp() + make_interval(secs => $2 / 1000.0) ELSE c.expires_at END
       RETURNING hits, greatest(1, ceil(extract(epoch FROM c.expires_at - clock_timestamp())))::int AS ttl`;

async function replay(
  label: string,
  durationS: number,
  sessions: { system: Client; runtime: Client }[],
  op: (s: { system: Client; runtime: Client }) => Promise<void>,
): Promise<Replay> {
  const until = performance.now() + durationS * 1000;
  let ops = 0;
  let latency = 0;
  const started = performance.now();
  await Promise.all(
    sessions.map(async (s) => {
      while (performance.now() < until) {
        const t = performance.now();
        await op(s);
        latency += performance.now() - t;
        ops++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { label, ops, seconds, meanMs: latency / ops };
}

async function sqlReplay(dataDir: string, orgId: string): Promise<Replay[]> {
  const connect = (role: 'system' | 'runtime') =>
    resources.connect(embeddedUrl(dataDir, PG_PORT, role), 'calmops:bench-auth');
  const sessions = await Promise.all(
    Array.from({ length: POOL_SIZE }, async () => ({
      system: await connect('system'),
      runtime: await connect('runtime'),
    })),
  );
  const hotKey = `bench:org:${orgId}`;
  const upsert = (s: { system: Client }) => s.system.query(UPSERT_SQL, [hotKey, 3_600_000]).then(() => undefined);
  const upsertOwnKey = (s: { system: Client }, i: number) =>
    s.system.query(UPSERT_SQL, [`bench:own:${i}`, 3_600_000]).then(() => undefined);
  // As TenantContext.run sends it: the transaction and the org in one simple query, the read, COMMIT.
  const tenantTx = async (s: { runtime: Client }) => {
    await s.runtime.query(`START TRANSACTION; SELECT set_config('app.current_org', '${orgId}', true)`);
    await s.runtime.query('SELECT id, name, plan, created_at FROM orgs WHERE id = $1 LIMIT 1', [orgId]);
    await s.runtime.query('COMMIT');
  };
  const results: Replay[] = [];
  const run = async (label: string, op: (s: { system: Client; runtime: Client }) => Promise<void>) => {
    await replay(label, 1, sessions, op); // warm-up
    const r = await replay(label, PROFILE_S, sessions, op);
    results.push(r);
    console.log(`replay ${label}: ${fmt(r.ops / r.seconds)} ops/s, mean ${r.meanMs.toFixed(2)} ms`);
  };
  await run('rate-limit upsert, one hot key (system role; the app now batches these, once a second)', upsert);
  await run('rate-limit upsert, a key per connection (system role)', (s) => upsertOwnKey(s, sessions.indexOf(s)));
  await run('tenant transaction of /api/orgs/me, as the app sends it (runtime role, 3 round trips)', tenantTx);
  await Promise.allSettled(sessions.flatMap((s) => [s.system, s.runtime]).map((c) => resources.release(c)));
  return results;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

interface Summary {
  rps: number;
  p50: number;
  p99: number;
}

function summarize(measurements: Measurement[]): { ok: boolean; summary: Record<Target, Summary> } {
  console.log(
    `\n### Runs (${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_S} s each after a ` +
      `${WARMUP_S} s warm-up)\n`,
  );
  console.log(
    '| Round | Slot | Target | Req/s (mean) | p50 (ms) | p99 (ms) | 2xx | non-2xx | errors | timeouts | ' +
      'Busy CPUs before → during | Other processes during (CPUs) |',
  );
  console.log('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const m of measurements) {
    const r = m.result;
    const busy = busyStr(m.busyBefore, m.busyDuring);
    const ours = m.cpuMs ? (m.cpuMs.app + m.cpuMs.pg + m.cpuMs.bench) / ((r.duration || DURATION_S) * 1000) : 0;
    const others = m.busyDuring === undefined ? undefined : Math.max(0, m.busyDuring - ours);
    console.log(
      `| ${m.round} | ${m.slot} | ${LABELS[m.target]} | ${fmt(r.requests.mean)} | ${fmt(r.latency.p50, 2)} | ` +
        `${fmt(r.latency.p99, 2)} | ${fmt(r['2xx'])} | ${r.non2xx} | ${r.errors} | ${r.timeouts} | ${busy} | ` +
        `${cpuStr(others)} |`,
    );
  }

  console.log(`\n### Summary (mean over ${ROUNDS} round(s))\n`);
  console.log('| Target | Req/s (mean) | p50 (ms) | p99 (ms) | Req/s ÷ live | non-2xx | errors + timeouts |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const summary = {} as Record<Target, Summary>;
  let ok = true;
  for (const target of TARGETS) {
    const rs = measurements.filter((m) => m.target === target).map((m) => m.result);
    summary[target] = {
      rps: mean(rs.map((r) => r.requests.mean)),
      p50: mean(rs.map((r) => r.latency.p50)),
      p99: mean(rs.map((r) => r.latency.p99)),
    };
  }
  for (const target of TARGETS) {
    const rs = measurements.filter((m) => m.target === target).map((m) => m.result);
    const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
    const errors = rs.reduce((a, r) => a + r.errors + r.timeouts, 0);
    if (non2xx || errors || rs.some((r) => r['2xx'] === 0)) ok = false;
    const s = summary[target];
    console.log(
      `| ${LABELS[target]} | ${fmt(s.rps)} | ${fmt(s.p50, 2)} | ${fmt(s.p99, 2)} | ` +
        `${(s.rps / summary.live.rps).toFixed(2)} | ${non2xx} | ${errors} |`,
    );
  }
  const perRound = (t: Target) =>
    [...new Set(measurements.map((m) => m.round))]
      .map((round) => {
        const of = (x: Target) => measurements.find((m) => m.round === round && m.target === x)!.result.requests.mean;
        return (of(t) / of('live')).toFixed(2);
      })
      .join(', ');
  for (const t of ['key', 'jwt'] as const) {
    const ratio = summary[t].rps / summary.live.rps;
    console.log(
      `\nRatio ${t}/live (req/s): **${ratio.toFixed(2)}** (per round: ${perRound(t)}); goal ≥ ${GOAL_RATIO}: ` +
        `${ratio >= GOAL_RATIO ? 'met' : 'MISSED'}`,
    );
  }
  return { ok, summary };
}

function cpuTable(measurements: Measurement[]): void {
  console.log('\n### CPU per request during the measurements (mean over rounds; 2 CPUs = 2000 ms/s)\n');
  console.log(
    '| Target | Req/s | App ms CPU/s | PostgreSQL ms CPU/s | Load generator ms CPU/s | ' +
      'App µs CPU/req | PostgreSQL µs CPU/req | Load generator µs CPU/req | Ceiling from CPU/req (req/s) |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ceilings: Partial<Record<Target, number>> = {};
  for (const target of TARGETS) {
    const ms = measurements.filter((m) => m.target === target && m.cpuMs);
    if (!ms.length) continue;
    const perS = (k: keyof Cpu) => mean(ms.map((m) => m.cpuMs![k] / (m.result.duration || DURATION_S)));
    const perReq = (k: keyof Cpu) => mean(ms.map((m) => (m.cpuMs![k] * 1000) / Math.max(1, m.result.requests.total)));
    // The app is one Node process (one CPU at most); all three share the machine's CPUs.
    const ceiling = Math.min(
      1e6 / perReq('app'),
      (cpus().length * 1e6) / (perReq('app') + perReq('pg') + perReq('bench')),
    );
    ceilings[target] = ceiling;
    console.log(
      `| ${LABELS[target]} | ${fmt(mean(ms.map((m) => m.result.requests.mean)))} | ${fmt(perS('app'))} | ` +
        `${fmt(perS('pg'))} | ${fmt(perS('bench'))} | ${fmt(perReq('app'))} | ${fmt(perReq('pg'))} | ` +
        `${fmt(perReq('bench'))} | ${fmt(ceiling)} |`,
    );
  }
  if (ceilings.live && ceilings.key && ceilings.jwt) {
    console.log(
      `\nCeiling = min(1 CPU ÷ app CPU/req, ${cpus().length} CPUs ÷ (app + PostgreSQL + load generator) CPU/req): ` +
        'what this machine could serve if nothing else ran; less sensitive to other load than req/s. ' +
        `Ceiling ratios: key/live **${(ceilings.key / ceilings.live).toFixed(2)}**, ` +
        `jwt/live **${(ceilings.jwt / ceilings.live).toFixed(2)}**.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------------------------

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  await assertPortsFree([PORT, HEALTH_PORT, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  const dataDir = resources.dataDir(resources.makeTempRoot('calmops-bench-auth-'));
  console.log(
    `auth bench: node ${process.version}, ${cpus().length} CPU(s); ${CONNECTIONS} connections, ` +
      `${DURATION_S} s per measurement after ${WARMUP_S} s warm-up, ${ROUNDS} round(s); ` +
      `RATE_LIMIT_*_PER_HOUR=${RATE_LIMIT}; load average ${loadStr()}`,
  );

  const app = spawnApp(resources, 'CalmOps app', 'all', env(dataDir));
  const creds = await waitForReady(app, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dataDir));
  const token = await issueToken(dataDir, creds.org_id);
  const base = `http://127.0.0.1:${PORT}`;
  const targets: Record<Target, { url: string; headers: Record<string, string> }> = {
    live: { url: `${base}/health/live`, headers: {} },
    key: { url: `${base}/api/orgs/me`, headers: { 'x-api-key': creds.api_key } },
    jwt: { url: `${base}/api/orgs/me`, headers: { authorization: `Bearer ${token}` } },
  };
  for (const target of TARGETS) {
    const answer = await get(targets[target].url, targets[target].headers);
    console.log(`${target}: ${answer?.status} ${answer?.body.slice(0, 160)}`);
    if (answer?.status !== 200) throw new Error(`${target}: expected 200 before measuring, got ${answer?.status}`);
  }
  const appPid = app.child.pid!;
  const pgPid = postmasterPid(dataDir);

  const measurements: Measurement[] = [];
  const checkAlive = () => {
    if (app.exitCode !== undefined) throw new Error(`app exited (${app.exitCode}). Output:\n${app.output()}`);
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const shift = (round - 1) % TARGETS.length;
    const order = [...TARGETS.slice(shift), ...TARGETS.slice(0, shift)];
    for (const [i, target] of order.entries()) {
      const { url, headers } = targets[target];
      const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
      await cannon(url, headers, WARMUP_S, CONNECTIONS);
      const {
        value: result,
        cpuMs,
        busyDuring,
      } = await withCpu(appPid, pgPid, () => cannon(url, headers, DURATION_S, CONNECTIONS));
      checkAlive();
      measurements.push({ round, slot: i + 1, target, result, busyBefore, busyDuring, cpuMs });
      console.log(
        `round ${round} ${target}: ${fmt(result.requests.mean)} req/s, p50 ${result.latency.p50} ms, ` +
          `p99 ${result.latency.p99} ms, non-2xx ${result.non2xx}, errors ${result.errors}`,
      );
    }
  }

  const single: { target: Target; result: CannonResult; busyBefore?: number; cpuMs: Cpu }[] = [];
  let replays: Replay[] = [];
  if (PROFILE_S > 0) {
    for (const target of TARGETS) {
      const { url, headers } = targets[target];
      const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
      await cannon(url, headers, 1, 1);
      const { value: result, cpuMs } = await withCpu(appPid, pgPid, () => cannon(url, headers, PROFILE_S, 1));
      checkAlive();
      single.push({ target, result, busyBefore, cpuMs });
      console.log(`1 connection ${target}: ${fmt(result.requests.mean)} req/s, p50 ${result.latency.p50} ms`);
    }
    await waitForQuiet(QUIET_WAIT_MS);
    replays = await sqlReplay(dataDir, creds.org_id);
  }

  const spread = await orgSpread(dataDir, base, appPid, pgPid);

  const summarized = summarize(measurements);
  const summary = summarized.summary;
  let ok = summarized.ok;
  cpuTable(measurements);
  if (single.length) {
    console.log(`\n### One connection (${PROFILE_S} s each after 1 s warm-up): latency without queueing\n`);
    console.log(
      '| Target | Req/s | mean (ms) | p50 (ms) | p99 (ms) | mean − live (ms) | App µs CPU/req | ' +
        'PostgreSQL µs CPU/req | non-2xx | Busy CPUs before |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const live = single.find((s) => s.target === 'live')!.result.latency.mean;
    for (const s of single) {
      const r = s.result;
      if (r.non2xx || r.errors || r.timeouts) ok = false;
      const perReq = (v: number) => fmt((v * 1000) / Math.max(1, r.requests.total));
      console.log(
        `| ${LABELS[s.target]} | ${fmt(r.requests.mean)} | ${fmt(r.latency.mean, 2)} | ${fmt(r.latency.p50, 2)} | ` +
          `${fmt(r.latency.p99, 2)} | ${fmt(r.latency.mean - live, 2)} | ${perReq(s.cpuMs.app)} | ` +
          `${perReq(s.cpuMs.pg)} | ${r.non2xx} | ${cpuStr(s.busyBefore)} |`,
      );
    }
  }
  if (replays.length) {
    console.log(
      `\n### The SQL of an authenticated request, replayed from the bench with \`pg\` on ${POOL_SIZE} connections ` +
        `(${PROFILE_S} s each)\n`,
    );
    console.log('| Statements | Ops/s | mean latency (ms) | Ops/s ÷ key req/s |');
    console.log('|---|---:|---:|---:|');
    for (const r of replays) {
      const rate = r.ops / r.seconds;
      console.log(`| ${r.label} | ${fmt(rate)} | ${r.meanMs.toFixed(2)} | ${(rate / summary.key.rps).toFixed(2)} |`);
    }
  }

  if (spread.length) {
    console.log(
      `\n### How cost grows: GET /api/orgs/me with API keys of N active orgs (${CONNECTIONS} connections, ` +
        `keys in rotation, ${DURATION_S} s each after a ${WARMUP_S} s warm-up)\n`,
    );
    console.log('| Active orgs | Req/s | p50 (ms) | p99 (ms) | App µs CPU/req | PostgreSQL µs CPU/req | non-2xx |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    for (const x of spread) {
      const n = x.result.requests.total || 1;
      console.log(
        `| ${fmt(x.orgs)} | ${fmt(x.result.requests.mean)} | ${x.result.latency.p50} | ${x.result.latency.p99} | ` +
          `${fmt((x.cpuMs.app * 1000) / n)} | ${fmt((x.cpuMs.pg * 1000) / n)} | ${x.result.non2xx} |`,
      );
    }
  }
  console.log(`\nLoad average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  recordFigures(
    'auth',
    (['key', 'jwt'] as const).map((t) => {
      const ratio = summary[t].rps / summary.live.rps;
      return {
        figure: `GET /api/orgs/me with ${t === 'key' ? 'API key' : 'Bearer JWT'} ÷ GET /health/live (req/s)`,
        today: `${ratio.toFixed(2)} (${fmt(summary[t].rps)} vs ${fmt(summary.live.rps)}/s)`,
        goal: `≥ ${GOAL_RATIO}`,
        met: ratio >= GOAL_RATIO,
      };
    }),
  );
  const code = await stopProcess(app, STOP_TIMEOUT_MS);
  if (code !== 0) throw new Error(`app exit code after SIGTERM: ${code} (want 0). ${app.output()}`);
  await resources.cleanup();
  if (!ok) {
    console.log('\nFAILED: some responses were non-2xx or errored (see tables).');
    process.exitCode = 1;
  }
}

installExitHandlers(
  'auth bench',
  resources,
  BOOT_TIMEOUT_MS * 2 +
    ROUNDS * TARGETS.length * ((WARMUP_S + DURATION_S + 15) * 1000 + QUIET_WAIT_MS) +
    TARGETS.length * ((PROFILE_S + 5) * 1000 + QUIET_WAIT_MS) +
    (5 * PROFILE_S + 30) * 1000 +
    STOP_TIMEOUT_MS,
);
runBench('auth bench', resources, bench);
