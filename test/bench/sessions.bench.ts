/**
 * Sessions benchmark: agent heartbeats and inbound-call routing of the built app. Run with
 * `npm run bench:sessions`.
 *
 * - The app is `node dist/src/main.js all` with its own embedded PostgreSQL (temp DATA_DIR),
 *   LOG_LEVEL=warn, RATE_LIMIT_*_PER_HOUR=100000000 (the limiter still counts every request in
 *   PostgreSQL, it just never blocks), CALL_OFFER_TIMEOUT_SECONDS=600 (no ringing call times out
 *   and re-queues in the middle of a routing run). Everything else is the default configuration
 *   (DATABASE_POOL_SIZE 10 per pool). The demo org's owner key comes from DATA_DIR/demo-credentials.json.
 * - Agents are seeded as the embedded superuser with the SQL of test/e2e/fixtures/sessions-seed.ts:
 *   logged in, available, device connected, fresh heartbeat, longest-idle order random.
 *
 * (a) Heartbeats: autocannon, BENCH_CONNECTIONS (100) connections, `POST /api/sessions/:id/heartbeat
 *     {"device_connected":true}` rotating over BENCH_HB_SESSIONS (500) sessions, vs `GET /api/orgs/me`
 *     and `GET /health/live` with the same connections in the same run. orgs/me is the closest
 *     authenticated route: the same auth, rate limiter and tenant transaction around one tiny
 *     SELECT. Rounds alternate the order; each measurement follows its own warm-up. Goal: heartbeat
 *     req/s ≥ 60 % of /health/live. The heartbeat sessions are logged out (SQL) before (b).
 * (b) Routing: BENCH_AGENTS (200) agents of capacity 1, then BENCH_CALLS (2,000) `POST /api/calls/inbound`
 *     (with a unique external_id, as a provider sends) from a keep-alive client holding exactly N
 *     requests in flight, for N in BENCH_CONCURRENCY ("1,50,500"; for N = 1 only BENCH_SERIAL_CALLS
 *     (300) calls). Each request's latency is timed with process.hrtime from this process. After the
 *     agents are all busy, later calls queue (each is still a full routing attempt). Latencies are
 *     reported for all calls, for those answered "ringing" (they got an agent) and "queued". After
 *     each run, SQL checks: no session with active_calls > capacity, active_calls = its live
 *     (ringing / in_progress) calls for every session, and ringing = min(agents, calls). Between runs
 *     every call is ended and every agent freed by SQL (then VACUUM ANALYZE). A warm-up run of 300
 *     calls at 50 precedes the measured ones. As a floor, `GET /api/orgs/me` is fired the same way
 *     at the same concurrencies. Goals: CPU per routed call (app + PostgreSQL, at 50 in flight)
 *     ≤ 3 ms; p99 < 20 ms at 1 in flight (the p99 at 50 is reported too).
 *     EXPLAIN (ANALYZE, BUFFERS) of the router's claim statement (copied from call-router.service.ts)
 *     and of its queued-call pick, as the runtime role (SET LOCAL ROLE calmops_app, so row-level
 *     security applies) with app.current_org set, inside a rolled-back transaction: once with all
 *     agents free and once with all busy and the queue full. Then the cost of one statement on this
 *     machine from this process: SELECT 1, and a one-row INSERT committed with synchronous_commit
 *     on / off (a scratch table, dropped after).
 * CPU of the app process and of PostgreSQL (postmaster + backends) is sampled around each
 * measurement and divided by the requests served. For the runs with 1 in flight (round 1), the
 * database work per request is counted from pg_stat_database / pg_stat_user_tables (transactions,
 * rows inserted / updated / deleted per table), minus the background of the idle app (pg-boss,
 * crons) counted once over 15 s; every reading waits 11 s for idle backends to flush their stats.
 *
 * Settings (env): BENCH_CONNECTIONS (100), BENCH_DURATION (10 s), BENCH_WARMUP (2 s), BENCH_ROUNDS (2),
 * BENCH_HB_SESSIONS (500), BENCH_AGENTS (200), BENCH_HISTORY_SESSIONS (0: closed sessions seeded
 * before (b)), BENCH_CALLS (2000), BENCH_SERIAL_CALLS (300),
 * BENCH_CONCURRENCY ("1,50,500"), BENCH_ROUTING_ROUNDS (2), BENCH_PORT (3940; +2 is HEALTH_PORT),
 * BENCH_PG_PORT (5940), BENCH_BOOT_TIMEOUT_MS (90000), BENCH_QUIET_WAIT_MS (10000: before each
 * measurement wait up to this long for other processes to use < 0.3 CPU over 1 s; 0 = never wait).
 */
import { existsSync } from 'node:fs';
import { Agent } from 'node:http';
import { cpus } from 'node:os';
import { Client } from 'pg';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  busyStr,
  CannonResult,
  embeddedUrl,
  envIntList,
  envNumber,
  fmt,
  HttpAnswer,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  mean,
  msStr,
  postgresCpuMs,
  postmasterPid,
  processCpuMs,
  readDemoCredentials,
  runAutocannon,
  runBench,
  sleep,
  spawnApp,
  Spawned,
  startCpuSample,
  stats,
  Stats,
  stopProcess,
  waitForQuiet,
  waitForReady,
} from './bench-harness';
import { recordFigures } from './summary';

const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 100);
const DURATION_S = envNumber('BENCH_DURATION', 10);
const WARMUP_S = envNumber('BENCH_WARMUP', 2);
const ROUNDS = envNumber('BENCH_ROUNDS', 2);
const HB_SESSIONS = envNumber('BENCH_HB_SESSIONS', 500);
const AGENTS = envNumber('BENCH_AGENTS', 200);
/** Closed sessions (with their presence rows) seeded before (b): routing must not slow down as history grows. */
const HISTORY_SESSIONS = envNumber('BENCH_HISTORY_SESSIONS', 0, true);
const CALLS = envNumber('BENCH_CALLS', 2000);
const SERIAL_CALLS = envNumber('BENCH_SERIAL_CALLS', 300);
const CONCURRENCY = envIntList('BENCH_CONCURRENCY', '1,50,500', 1, 2000);
const ROUTING_ROUNDS = envNumber('BENCH_ROUTING_ROUNDS', 2);
const PORT = envNumber('BENCH_PORT', 3940);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envNumber('BENCH_PG_PORT', 5940);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 90_000);
const STOP_TIMEOUT_MS = 40_000;
const REQUEST_TIMEOUT_MS = 30_000;
const QUIET_WAIT_MS = envNumber('BENCH_QUIET_WAIT_MS', 10_000, true);
const WARMUP_CALLS = 300;
const GOAL_HB_RATIO = 0.6;
const GOAL_P99_MS = 20;
const GOAL_CPU_MS_PER_CALL = 3;
const GOAL_AT = 50;

const resources = new BenchResources();
let dataDir: string | undefined;

// ---------------------------------------------------------------------------------------------
// CPU sampling
// ---------------------------------------------------------------------------------------------

interface Sampling {
  busyBefore?: number;
  busyDuring?: number;
  appCpuMs: number;
  pgCpuMs: number;
}

/** Waits for a quiet machine, then runs `fn` and returns what the CPUs did meanwhile. */
async function sampled<T>(fn: () => Promise<T>, warmUp?: () => Promise<unknown>): Promise<{ value: T } & Sampling> {
  const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
  if (warmUp) await warmUp();
  const appPid = app!.child.pid!;
  const pgPid = postmasterPid(dataDir!);
  const stop = startCpuSample({ app: () => processCpuMs(appPid), pg: () => postgresCpuMs(pgPid) });
  const value = await fn();
  const sample = stop();
  return { value, busyBefore, busyDuring: sample.busyCpus, appCpuMs: sample.ms.app, pgCpuMs: sample.ms.pg };
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

function http(
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string> = {},
  body?: unknown,
  agent: Agent | false = false,
): Promise<HttpAnswer | undefined> {
  return httpRequest({ port: PORT, method, path, headers, body, agent, timeoutMs: REQUEST_TIMEOUT_MS });
}

let app: Spawned | undefined;

function startApp(dir: string): Spawned {
  const env = appEnv(dir, PG_PORT, {
    PORT: String(PORT),
    HEALTH_PORT: String(HEALTH_PORT),
    // No offer times out (and re-queues its call) while a routing run is going.
    CALL_OFFER_TIMEOUT_SECONDS: '600',
  });
  return spawnApp(resources, 'CalmOps app', 'all', env);
}

// ---------------------------------------------------------------------------------------------
// Seeding, reset and checks (SQL as superuser: row-level security does not apply)
// ---------------------------------------------------------------------------------------------

/** test/e2e/fixtures/sessions-seed.ts: logged-in, connected, available agents. */
async function seedAgents(su: Client, orgId: string, count: number, prefix: string): Promise<string[]> {
  const { rows } = await su.query<{ id: string }>(
    `WITH a AS (
       INSERT INTO call_agents (org_id, name, max_concurrent_calls)
       SELECT $1, $4 || ' ' || i, $3 FROM generate_series(1, $2) i RETURNING id, org_id),
     s AS (
       INSERT INTO agent_sessions (org_id, agent_id, capacity, idle_since)
       SELECT org_id, id, $3, now() - random() * interval '1 hour' FROM a RETURNING id, org_id)
     INSERT INTO agent_presence (session_id, org_id, device_connected) SELECT id, org_id, true FROM s RETURNING session_id AS id`,
    [orgId, count, 1, prefix],
  );
  await su.query('ANALYZE call_agents, agent_sessions, agent_presence');
  return rows.map((r) => r.id);
}

/** Closed sessions of 500 former agents, with their (stale, disconnected) presence rows. */
async function seedHistory(su: Client, orgId: string, count: number): Promise<void> {
  const t = Date.now();
  await su.query(
    `WITH a AS (
       INSERT INTO call_agents (org_id, name, max_concurrent_calls)
       SELECT $1, 'History agent ' || i, 1 FROM generate_series(1, 500) i RETURNING id, org_id),
     s AS (
       INSERT INTO agent_sessions (org_id, agent_id, capacity, idle_since, logout_at, status, end_reason)
       SELECT a.org_id, a.id, 1, now() - interval '2 days', now() - interval '1 day', 'offline', 'logout'
       FROM a, generate_series(1, ceil($2 / 500.0)::int) RETURNING id, org_id)
     INSERT INTO agent_presence (session_id, org_id, device_connected, last_heartbeat)
     SELECT id, org_id, false, now() - interval '1 day' FROM s`,
    [orgId, count],
  );
  await su.query('VACUUM ANALYZE call_agents, agent_sessions, agent_presence');
  console.log(`(b) seeded ${fmt(count)} closed sessions of history in ${fmt(Date.now() - t)} ms`);
}

/** Ends every live call of the org and frees the given sessions, heartbeat fresh, as after seeding. */
async function resetRouting(su: Client, orgId: string, sessionIds: string[]): Promise<void> {
  await su.query(
    `UPDATE calls SET status = CASE WHEN status = 'queued' THEN 'abandoned' ELSE 'completed' END,
       ended_at = now(), end_reason = 'bench reset', reserved_until = NULL
     WHERE org_id = $1 AND status IN ('queued', 'ringing', 'in_progress')`,
    [orgId],
  );
  await su.query(
    `UPDATE agent_sessions SET active_calls = 0, current_call_id = NULL, ready_at = now(), offer_cooldown_until = NULL,
       idle_since = now() - random() * interval '1 hour'
     WHERE id = ANY($1::uuid[])`,
    [sessionIds],
  );
  await su.query(
    `UPDATE agent_presence SET last_heartbeat = now(), device_connected = true WHERE session_id = ANY($1::uuid[])`,
    [sessionIds],
  );
  await su.query('VACUUM ANALYZE calls, agent_sessions, agent_presence');
}

interface RoutingCheck {
  overCapacity: number;
  mismatched: number;
  activeSum: number;
  ringing: number;
  queued: number;
  other: number;
}

async function checkRouting(su: Client, orgId: string, sessionIds: string[]): Promise<RoutingCheck> {
  const { rows } = await su.query<{ over: number; mismatched: number; active_sum: number }>(
    `SELECT count(*) FILTER (WHERE s.active_calls > s.capacity)::int AS over,
            count(*) FILTER (WHERE s.active_calls <> coalesce(l.n, 0))::int AS mismatched,
            coalesce(sum(s.active_calls), 0)::int AS active_sum
     FROM agent_sessions s
     LEFT JOIN (SELECT session_id, count(*)::int AS n FROM calls
                WHERE org_id = $1 AND status IN ('ringing', 'in_progress') GROUP BY session_id) l ON l.session_id = s.id
     WHERE s.org_id = $1 AND (s.id = ANY($2::uuid[]) OR l.n IS NOT NULL)`,
    [orgId, sessionIds],
  );
  const { rows: calls } = await su.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM calls WHERE org_id = $1 AND status IN ('queued', 'ringing', 'in_progress')
     GROUP BY status`,
    [orgId],
  );
  const of = (s: string) => calls.find((c) => c.status === s)?.n ?? 0;
  return {
    overCapacity: rows[0].over,
    mismatched: rows[0].mismatched,
    activeSum: rows[0].active_sum,
    ringing: of('ringing'),
    queued: of('queued'),
    other: of('in_progress'),
  };
}

// ---------------------------------------------------------------------------------------------
// EXPLAIN of the router's statements (copied from call-router.service.ts)
// ---------------------------------------------------------------------------------------------

const CLAIM_SQL = `WITH candidate AS (
         SELECT s.id FROM agent_sessions s JOIN agent_presence p ON p.session_id = s.id
         WHERE s.org_id = $1 AND s.logout_at IS NULL AND s.status = 'available' AND s.pending_status IS NULL
           AND p.device_connected AND p.last_heartbeat > now() - make_interval(secs => $2)
           AND s.active_calls < s.capacity AND s.ready_at <= now()
           AND (s.offer_cooldown_until IS NULL OR s.offer_cooldown_until <= now())
         ORDER BY s.idle_since, s.id LIMIT 1 FOR UPDATE OF s SKIP LOCKED)
       UPDATE agent_sessions s SET active_calls = s.active_calls + 1, current_call_id = coalesce(s.current_call_id, $3)
       FROM candidate c WHERE s.id = c.id RETURNING s.id AS session_id, s.agent_id`;

const QUEUED_SQL = `SELECT id, last_missed_session_id FROM calls WHERE org_id = $1 AND status = 'queued'
         ORDER BY queued_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`;

interface Explained {
  label: string;
  planningMs: number;
  executionMs: number;
  plan: string;
}

async function explain(su: Client, label: string, sql: string, params: unknown[], orgId: string): Promise<Explained> {
  await su.query('BEGIN');
  try {
    await su.query('SET LOCAL ROLE calmops_app');
    await su.query(`SELECT set_config('app.current_org', $1, true)`, [orgId]);
    // Twice: the first pays for catalog caches like a fresh connection would; the second is reported.
    for (let i = 0; i < 2; i++) {
      await su.query('SAVEPOINT x');
      const { rows } = await su.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      await su.query('ROLLBACK TO SAVEPOINT x');
      if (i === 1) {
        const lines = rows.map((r) => r['QUERY PLAN']);
        const num = (re: RegExp) => Number(lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined) ?? NaN);
        return {
          label,
          planningMs: num(/Planning Time: ([\d.]+) ms/),
          executionMs: num(/Execution Time: ([\d.]+) ms/),
          plan: lines.join('\n'),
        };
      }
    }
    throw new Error('unreachable');
  } finally {
    await su.query('ROLLBACK');
  }
}

interface DbCounters {
  at: number;
  xacts: number;
  tables: Map<string, { ins: number; upd: number; del: number }>;
}

/**
 * An idle backend flushes its pending statistics only after up to 10 s (PGSTAT_IDLE_INTERVAL),
 * so counters are read after a pause longer than that.
 */
const STATS_SETTLE_MS = 11_000;
const BACKGROUND_MS = 15_000;

/** Database-wide transactions and per-table row writes (cumulative statistics), after the settle pause. */
async function dbCounters(su: Client): Promise<DbCounters> {
  await sleep(STATS_SETTLE_MS);
  await su.query('SELECT pg_stat_clear_snapshot()');
  const { rows: db } = await su.query<{ xacts: string }>(
    `SELECT xact_commit + xact_rollback AS xacts FROM pg_stat_database WHERE datname = current_database()`,
  );
  const { rows } = await su.query<{ name: string; ins: string; upd: string; del: string }>(
    `SELECT schemaname || '.' || relname AS name, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del
     FROM pg_stat_user_tables`,
  );
  return {
    at: Date.now(),
    xacts: Number(db[0].xacts),
    tables: new Map(rows.map((r) => [r.name, { ins: Number(r.ins), upd: Number(r.upd), del: Number(r.del) }])),
  };
}

/** Per-millisecond background of an idle app (pg-boss polling, crons): counted once. */
interface Background {
  xacts: number;
  tables: Map<string, { ins: number; upd: number; del: number }>;
}

async function measureBackground(su: Client): Promise<Background> {
  const a = await dbCounters(su);
  await sleep(BACKGROUND_MS - STATS_SETTLE_MS);
  const b = await dbCounters(su);
  const dt = b.at - a.at;
  const tables = new Map<string, { ins: number; upd: number; del: number }>();
  for (const [name, x] of b.tables) {
    const x0 = a.tables.get(name) ?? { ins: 0, upd: 0, del: 0 };
    tables.set(name, { ins: (x.ins - x0.ins) / dt, upd: (x.upd - x0.upd) / dt, del: (x.del - x0.del) / dt });
  }
  return { xacts: (b.xacts - a.xacts) / dt, tables };
}

interface DbWork {
  xactsPerRequest: number;
  backgroundXactsPerSecond: number;
  /** Rows written per request, per table, background subtracted; only tables with ≥ 0.05. */
  tables: { name: string; ins: number; upd: number; del: number }[];
}

/** Runs `fn` (which serves `requests`) between two counter readings; the background is subtracted. */
async function dbWork<T>(
  su: Client,
  bg: Background,
  requests: number,
  fn: () => Promise<T>,
): Promise<{ value: T; work: DbWork }> {
  const a = await dbCounters(su);
  const value = await fn();
  const b = await dbCounters(su);
  const dt = b.at - a.at;
  const per = (delta: number, rate: number) => (delta - rate * dt) / requests;
  const tables: DbWork['tables'] = [];
  for (const [name, x] of b.tables) {
    const x0 = a.tables.get(name) ?? { ins: 0, upd: 0, del: 0 };
    const r = bg.tables.get(name) ?? { ins: 0, upd: 0, del: 0 };
    const row = {
      name,
      ins: per(x.ins - x0.ins, r.ins),
      upd: per(x.upd - x0.upd, r.upd),
      del: per(x.del - x0.del, r.del),
    };
    if (Math.max(row.ins, row.upd, row.del) >= 0.05) tables.push(row);
  }
  tables.sort((p, q) => q.ins + q.upd + q.del - (p.ins + p.upd + p.del));
  return {
    value,
    work: {
      xactsPerRequest: per(b.xacts - a.xacts, bg.xacts),
      backgroundXactsPerSecond: bg.xacts * 1000,
      tables,
    },
  };
}

let background: Background | undefined;

interface RoundTrips {
  settings: string;
  select1: Stats;
  commitSync: Stats;
  commitAsync: Stats;
}

/**
 * What one statement costs on this machine, from this process: `SELECT 1`, and a one-row INSERT
 * committed with synchronous_commit on (WAL flushed to disk, as the app's write transactions)
 * and off. Scratch table, dropped after.
 */
async function roundTrips(su: Client): Promise<RoundTrips> {
  const time = async (n: number, sql: string) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await su.query(sql);
      out.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return stats(out)!;
  };
  const { rows } = await su.query<{ fsync: string; sc: string; method: string }>(
    `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc,
            current_setting('wal_sync_method') AS method`,
  );
  await su.query('CREATE TABLE bench_commit_probe (id int)');
  try {
    await time(50, 'SELECT 1'); // warm-up
    const select1 = await time(300, 'SELECT 1');
    const commitSync = await time(200, 'INSERT INTO bench_commit_probe VALUES (1)');
    await su.query('SET synchronous_commit = off');
    const commitAsync = await time(200, 'INSERT INTO bench_commit_probe VALUES (1)');
    await su.query('RESET synchronous_commit');
    return {
      settings: `fsync ${rows[0].fsync}, synchronous_commit ${rows[0].sc}, wal_sync_method ${rows[0].method}`,
      select1,
      commitSync,
      commitAsync,
    };
  } finally {
    await su.query('DROP TABLE IF EXISTS bench_commit_probe');
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Heartbeats vs GET /api/orgs/me (autocannon)
// ---------------------------------------------------------------------------------------------

type HbTarget = 'heartbeat' | 'me' | 'live';
const HB_LABEL: Record<HbTarget, string> = {
  heartbeat: 'POST /api/sessions/:id/heartbeat',
  me: 'GET /api/orgs/me',
  live: 'GET /health/live',
};

interface HbMeasurement extends Sampling {
  round: number;
  slot: number;
  target: HbTarget;
  result: CannonResult;
}

function cannon(target: HbTarget, apiKey: string, sessionIds: string[], durationS: number): Promise<CannonResult> {
  let next = 0;
  const base = { url: `http://127.0.0.1:${PORT}`, connections: CONNECTIONS, duration: durationS, pipelining: 1 };
  const opts =
    target === 'live'
      ? { ...base, url: `${base.url}/health/live` }
      : target === 'me'
        ? { ...base, url: `${base.url}/api/orgs/me`, headers: { 'x-api-key': apiKey } }
        : {
            ...base,
            headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
            requests: [
              {
                method: 'POST',
                body: JSON.stringify({ device_connected: true }),
                setupRequest: (req: Record<string, unknown>) => ({
                  ...req,
                  path: `/api/sessions/${sessionIds[next++ % sessionIds.length]}/heartbeat`,
                }),
              },
            ],
          };
  return runAutocannon(opts);
}

async function heartbeats(apiKey: string, sessionIds: string[]): Promise<HbMeasurement[]> {
  const out: HbMeasurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: HbTarget[] = round % 2 ? ['heartbeat', 'me', 'live'] : ['live', 'me', 'heartbeat'];
    for (const [i, target] of order.entries()) {
      const s = await sampled(
        () => cannon(target, apiKey, sessionIds, DURATION_S),
        () => cannon(target, apiKey, sessionIds, WARMUP_S),
      );
      if (app!.exitCode !== undefined) throw new Error(`app exited (${app!.exitCode}). ${app!.output()}`);
      const r = s.value;
      out.push({ round, slot: i + 1, target, result: r, ...s });
      console.log(
        `(a) round ${round} ${target}: ${fmt(r.requests.mean)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
          `2xx ${r['2xx']}, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts}`,
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (b) Routing: N requests in flight, each timed
// ---------------------------------------------------------------------------------------------

interface Sample {
  seq: number;
  ms: number;
  status: number;
  callStatus?: string;
}

interface Fired {
  samples: Sample[];
  wallMs: number;
}

/** Keeps exactly `concurrency` requests in flight until `total` are answered; sockets opened beforehand. */
async function fire(
  concurrency: number,
  total: number,
  send: (seq: number, agent: Agent) => Promise<HttpAnswer | undefined>,
): Promise<Fired> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
  try {
    // Open the sockets first (GET /health/live), so no measured request pays for a TCP connect.
    await Promise.all(Array.from({ length: concurrency }, () => http('GET', '/health/live', {}, undefined, agent)));
    const samples: Sample[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    const worker = async () => {
      for (;;) {
        const seq = next++;
        if (seq >= total) return;
        const t0 = process.hrtime.bigint();
        const answer = await send(seq, agent);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        let callStatus: string | undefined;
        try {
          callStatus = answer ? (JSON.parse(answer.body) as { status?: string }).status : undefined;
        } catch {
          /* not JSON */
        }
        samples.push({ seq, ms, status: answer?.status ?? 0, callStatus });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { samples, wallMs: Number(process.hrtime.bigint() - started) / 1e6 };
  } finally {
    agent.destroy();
  }
}

interface RoutingRun extends Sampling {
  route: 'inbound' | 'me';
  concurrency: number;
  round: number;
  calls: number;
  wallMs: number;
  all?: Stats;
  ringing?: Stats;
  queued?: Stats;
  firstSent?: Stats;
  statusCodes: Record<string, number>;
  check?: RoutingCheck;
  db?: DbWork;
}

let runSeq = 0;

async function routingRun(
  su: Client,
  creds: { org_id: string; api_key: string },
  agents: string[],
  concurrency: number,
  calls: number,
  round: number,
): Promise<RoutingRun> {
  const run = ++runSeq;
  const headers = { 'x-api-key': creds.api_key };
  await resetRouting(su, creds.org_id, agents);
  const measure = () =>
    sampled(() =>
      fire(concurrency, calls, (seq, agent) =>
        http(
          'POST',
          '/api/calls/inbound',
          headers,
          { from: `+1555${String(seq).padStart(7, '0')}`, to: '+15559870000', external_id: `bench-${run}-${seq}` },
          agent,
        ),
      ),
    );
  let db: DbWork | undefined;
  let s: Awaited<ReturnType<typeof measure>>;
  if (concurrency === 1 && round === 1 && background) {
    ({ value: s, work: db } = await dbWork(su, background, calls, measure));
  } else s = await measure();
  const { samples, wallMs } = s.value;
  const check = await checkRouting(su, creds.org_id, agents);
  const statusCodes: Record<string, number> = {};
  for (const x of samples) statusCodes[x.status] = (statusCodes[x.status] ?? 0) + 1;
  const result: RoutingRun = {
    route: 'inbound',
    concurrency,
    round,
    calls,
    wallMs,
    all: stats(samples.map((x) => x.ms)),
    ringing: stats(samples.filter((x) => x.callStatus === 'ringing').map((x) => x.ms)),
    queued: stats(samples.filter((x) => x.callStatus === 'queued').map((x) => x.ms)),
    firstSent: stats(samples.filter((x) => x.seq < agents.length).map((x) => x.ms)),
    statusCodes,
    check,
    db,
    busyBefore: s.busyBefore,
    busyDuring: s.busyDuring,
    appCpuMs: s.appCpuMs,
    pgCpuMs: s.pgCpuMs,
  };
  console.log(
    `(b) inbound ×${calls} at ${concurrency} (round ${round}): ${fmt((calls * 1000) / wallMs)} req/s, ` +
      `p50 ${ms(result.all?.p50)} p99 ${ms(result.all?.p99)} ms; ringing ${ms(result.ringing?.p99)} / queued ` +
      `${ms(result.queued?.p99)} ms p99; codes ${JSON.stringify(statusCodes)}; check ${JSON.stringify(check)}`,
  );
  return result;
}

async function meRun(
  su: Client,
  apiKey: string,
  concurrency: number,
  total: number,
  round: number,
): Promise<RoutingRun> {
  const measure = () =>
    sampled(() =>
      fire(concurrency, total, (_seq, agent) => http('GET', '/api/orgs/me', { 'x-api-key': apiKey }, undefined, agent)),
    );
  let db: DbWork | undefined;
  let s: Awaited<ReturnType<typeof measure>>;
  if (concurrency === 1 && round === 1 && background) {
    ({ value: s, work: db } = await dbWork(su, background, total, measure));
  } else s = await measure();
  const { samples, wallMs } = s.value;
  const statusCodes: Record<string, number> = {};
  for (const x of samples) statusCodes[x.status] = (statusCodes[x.status] ?? 0) + 1;
  const result: RoutingRun = {
    route: 'me',
    concurrency,
    round,
    calls: total,
    wallMs,
    all: stats(samples.map((x) => x.ms)),
    statusCodes,
    db,
    busyBefore: s.busyBefore,
    busyDuring: s.busyDuring,
    appCpuMs: s.appCpuMs,
    pgCpuMs: s.pgCpuMs,
  };
  console.log(
    `(b) orgs/me ×${total} at ${concurrency} (round ${round}): ${fmt((total * 1000) / wallMs)} req/s, ` +
      `p50 ${ms(result.all?.p50)} p99 ${ms(result.all?.p99)} ms; codes ${JSON.stringify(statusCodes)}`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const ms = (v: number | undefined) => msStr(v);
const busyCell = (s: Sampling) => busyStr(s.busyBefore, s.busyDuring);

function reportHeartbeats(ms_: HbMeasurement[]): { ok: boolean; ratio: number; rps: Record<HbTarget, number> } {
  console.log(
    `\n### (a) Heartbeats vs GET /api/orgs/me (${CONNECTIONS} connections, ${DURATION_S} s each after a ` +
      `${WARMUP_S} s warm-up, heartbeats rotating over ${HB_SESSIONS} sessions)\n`,
  );
  console.log(
    '| Round | Slot | Route | Req/s (mean) | p50 (ms) | p99 (ms) | 2xx | non-2xx | errors + timeouts | ' +
      'CPU ms/request (app + PG) | Busy CPUs before → during |',
  );
  console.log('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const m of ms_) {
    const r = m.result;
    const n = r['2xx'] + r.non2xx;
    console.log(
      `| ${m.round} | ${m.slot} | ${HB_LABEL[m.target]} | ${fmt(r.requests.mean)} | ${fmt(r.latency.p50, 2)} | ` +
        `${fmt(r.latency.p99, 2)} | ${fmt(r['2xx'])} | ${r.non2xx} | ${r.errors + r.timeouts} | ` +
        `${(m.appCpuMs / n).toFixed(2)} + ${(m.pgCpuMs / n).toFixed(2)} | ${busyCell(m)} |`,
    );
  }
  console.log(`\nSummary (mean over ${ROUNDS} round(s)):\n`);
  console.log('| Route | Req/s (mean) | p50 (ms) | p99 (ms) | non-2xx | errors + timeouts |');
  console.log('|---|---:|---:|---:|---:|---:|');
  let ok = true;
  const rps = {} as Record<HbTarget, number>;
  for (const target of ['heartbeat', 'me', 'live'] as HbTarget[]) {
    const rs = ms_.filter((m) => m.target === target).map((m) => m.result);
    rps[target] = mean(rs.map((r) => r.requests.mean));
    const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
    const errors = rs.reduce((a, r) => a + r.errors + r.timeouts, 0);
    if (non2xx || errors || rs.some((r) => r['2xx'] === 0)) ok = false;
    console.log(
      `| ${HB_LABEL[target]} | ${fmt(rps[target])} | ${fmt(mean(rs.map((r) => r.latency.p50)), 2)} | ` +
        `${fmt(mean(rs.map((r) => r.latency.p99)), 2)} | ${non2xx} | ${errors} |`,
    );
  }
  const ratio = rps.heartbeat / rps.live;
  const perRound = (over: HbTarget) =>
    [...new Set(ms_.map((m) => m.round))].map((round) => {
      const of = (t: HbTarget) => ms_.find((m) => m.round === round && m.target === t)!.result.requests.mean;
      return (of('heartbeat') / of(over)).toFixed(2);
    });
  console.log(
    `\nRatio heartbeat / health/live (req/s): **${ratio.toFixed(2)}** (per round: ${perRound('live').join(', ')}; ` +
      `goal ≥ ${GOAL_HB_RATIO}: ${ratio >= GOAL_HB_RATIO ? 'met' : 'MISSED'}). Heartbeat / orgs/me: ` +
      `${(rps.heartbeat / rps.me).toFixed(2)} (per round: ${perRound('me').join(', ')}).`,
  );
  return { ok, ratio, rps };
}

function reportRouting(runs: RoutingRun[], explains: Explained[], trips: RoundTrips): boolean {
  let ok = true;
  console.log(
    `\n### (b) Inbound-call routing (${AGENTS} agents of capacity 1; ${fmt(HISTORY_SESSIONS)} closed sessions of ` +
      `history; ${fmt(CALLS)} calls per run, ` +
      `${SERIAL_CALLS} at concurrency 1)\n`,
  );
  console.log(
    '| Route | In flight | Round | Requests | Req/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | ' +
      `ringing: n / p50 / p99 | queued: n / p50 / p99 | HTTP codes | CPU ms/request (app + PG) | Busy CPUs before → during |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|');
  for (const r of runs) {
    const sub = (s?: Stats) => (s ? `${s.n} / ${ms(s.p50)} / ${ms(s.p99)}` : '—');
    const codes = Object.entries(r.statusCodes)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    const want = r.route === 'inbound' ? '201' : '200';
    if (Object.keys(r.statusCodes).some((k) => k !== want)) ok = false;
    console.log(
      `| ${r.route === 'inbound' ? 'POST /api/calls/inbound' : 'GET /api/orgs/me'} | ${r.concurrency} | ${r.round} | ` +
        `${fmt(r.calls)} | ${fmt((r.calls * 1000) / r.wallMs)} | ${ms(r.all?.p50)} | ${ms(r.all?.p90)} | ` +
        `${ms(r.all?.p99)} | ${ms(r.all?.max)} | ${r.route === 'inbound' ? sub(r.ringing) : '—'} | ` +
        `${r.route === 'inbound' ? sub(r.queued) : '—'} | ${codes} | ` +
        `${(r.appCpuMs / r.calls).toFixed(2)} + ${(r.pgCpuMs / r.calls).toFixed(2)} | ${busyCell(r)} |`,
    );
  }

  console.log('\nOverbooking checks after each inbound run (SQL):\n');
  console.log(
    '| In flight | Round | Sessions with active_calls > capacity | Sessions with active_calls ≠ live calls | ' +
      'Σ active_calls | Ringing | Queued | Expected ringing / queued |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs.filter((x) => x.check)) {
    const c = r.check!;
    const expRinging = Math.min(AGENTS, r.calls);
    const good =
      c.overCapacity === 0 &&
      c.mismatched === 0 &&
      c.activeSum === c.ringing &&
      c.ringing === expRinging &&
      c.queued === r.calls - expRinging;
    if (!good) ok = false;
    console.log(
      `| ${r.concurrency} | ${r.round} | ${c.overCapacity} | ${c.mismatched} | ${c.activeSum} | ${c.ringing} | ` +
        `${c.queued} | ${expRinging} / ${r.calls - expRinging}${good ? '' : ' (NOT OK)'} |`,
    );
  }

  const serial = runs.filter((r) => r.db);
  if (serial.length) {
    console.log(
      `\nDatabase work per request with 1 in flight, round 1 (background of the idle app subtracted: ` +
        `${serial[0].db!.backgroundXactsPerSecond.toFixed(1)} transactions/s; rows written per table):\n`,
    );
    console.log('| Route | Round | Transactions / request | Rows written / request (ins / upd / del) |');
    console.log('|---|---:|---:|---|');
    for (const r of serial) {
      const t = r.db!.tables.map((x) => `${x.name} ${x.ins.toFixed(2)} / ${x.upd.toFixed(2)} / ${x.del.toFixed(2)}`);
      console.log(
        `| ${r.route === 'inbound' ? 'POST /api/calls/inbound' : 'GET /api/orgs/me'} | ${r.round} | ` +
          `${r.db!.xactsPerRequest.toFixed(2)} | ${t.join('; ') || '—'} |`,
      );
    }
  }

  console.log('\nEXPLAIN (ANALYZE, BUFFERS) as calmops_app with app.current_org set (rolled back):\n');
  console.log('| Statement | Planning (ms) | Execution (ms) |');
  console.log('|---|---:|---:|');
  for (const e of explains) console.log(`| ${e.label} | ${e.planningMs.toFixed(3)} | ${e.executionMs.toFixed(3)} |`);
  for (const e of explains) console.log(`\n${e.label}:\n\n\`\`\`\n${e.plan}\n\`\`\``);

  console.log(`\nOne statement from this process to PostgreSQL, superuser connection (${trips.settings}):\n`);
  console.log('| Statement | n | p50 (ms) | p90 (ms) | p99 (ms) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [label, x] of [
    ['SELECT 1', trips.select1],
    ['INSERT one row, autocommit, synchronous_commit on', trips.commitSync],
    ['INSERT one row, autocommit, synchronous_commit off', trips.commitAsync],
  ] as const) {
    console.log(`| ${label} | ${x.n} | ${x.p50.toFixed(2)} | ${x.p90.toFixed(2)} | ${x.p99.toFixed(2)} |`);
  }

  const at = runs.filter((r) => r.route === 'inbound' && r.concurrency === GOAL_AT);
  if (at.length) {
    const p99 = mean(at.map((r) => r.all!.p99));
    console.log(
      `\np99 of POST /api/calls/inbound at ${GOAL_AT} in flight: **${p99.toFixed(1)} ms** (mean over ${at.length} ` +
        `run(s): ${at.map((r) => r.all!.p99.toFixed(1)).join(', ')}; goal < ${GOAL_P99_MS} ms: ` +
        `${p99 < GOAL_P99_MS ? 'met' : 'MISSED'})`,
    );
  }
  return ok;
}

/** The headline figures for the `npm run bench` summary. */
function recordSessionFigures(ratio: number, rps: Record<HbTarget, number>, runs: RoutingRun[]): void {
  const inbound = (n: number) => runs.filter((r) => r.route === 'inbound' && r.concurrency === n);
  const loaded = inbound(GOAL_AT);
  const cpuMs = loaded.length ? mean(loaded.map((r) => (r.appCpuMs + r.pgCpuMs) / r.calls)) : undefined;
  const serial = inbound(1).filter((r) => r.all);
  const p99 = serial.length ? mean(serial.map((r) => r.all!.p99)) : undefined;
  recordFigures('sessions', [
    {
      figure: 'heartbeat ÷ GET /health/live (req/s)',
      today: `${ratio.toFixed(2)} (${fmt(rps.heartbeat)} vs ${fmt(rps.live)}/s)`,
      goal: `≥ ${GOAL_HB_RATIO}`,
      met: ratio >= GOAL_HB_RATIO,
    },
    {
      figure:
        `inbound calls: CPU per call, app + PostgreSQL (${GOAL_AT} in flight; ${AGENTS} agents, ${fmt(CALLS)} calls: ` +
        `${AGENTS} routed, the rest queued)`,
      today: cpuMs === undefined ? 'not run' : `${cpuMs.toFixed(2)} ms`,
      goal: `≤ ${GOAL_CPU_MS_PER_CALL} ms`,
      met: cpuMs === undefined ? null : cpuMs <= GOAL_CPU_MS_PER_CALL,
    },
    {
      figure: 'inbound call routing: p99 at 1 in flight',
      today: p99 === undefined ? 'not run' : `${p99.toFixed(1)} ms`,
      goal: `< ${GOAL_P99_MS} ms`,
      met: p99 === undefined ? null : p99 < GOAL_P99_MS,
    },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  await assertPortsFree([PORT, HEALTH_PORT, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  dataDir = resources.dataDir(resources.makeTempRoot('calmops-bench-sessions-'));
  console.log(
    `sessions bench: node ${process.version}, ${cpus().length} CPU(s); (a) ${CONNECTIONS} connections, ${ROUNDS} ` +
      `round(s) of ${WARMUP_S}+${DURATION_S} s; (b) ${AGENTS} agents, ${fmt(CALLS)} calls at ${CONCURRENCY.join(', ')} ` +
      `in flight, ${ROUTING_ROUNDS} round(s); load average ${loadStr()}`,
  );
  app = startApp(dataDir);
  const dir = dataDir;
  const creds = await waitForReady(app, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dir));
  const su = await resources.connect(embeddedUrl(dataDir, PG_PORT, 'superuser'), 'calmops:bench-sessions');

  // (a)
  const hbSessions = await seedAgents(su, creds.org_id, HB_SESSIONS, 'HB agent');
  const probe = await http(
    'POST',
    `/api/sessions/${hbSessions[0]}/heartbeat`,
    { 'x-api-key': creds.api_key },
    {
      device_connected: true,
    },
  );
  if (probe?.status !== 204) throw new Error(`heartbeat probe: ${probe?.status} ${probe?.body}`);
  const hb = await heartbeats(creds.api_key, hbSessions);
  await su.query(
    `UPDATE agent_sessions SET logout_at = now(), end_reason = 'logout', status = 'offline' WHERE id = ANY($1::uuid[])`,
    [hbSessions],
  );

  // (b)
  if (HISTORY_SESSIONS) await seedHistory(su, creds.org_id, HISTORY_SESSIONS);
  const agents = await seedAgents(su, creds.org_id, AGENTS, 'Router agent');
  const explains: Explained[] = [];
  const window = 45; // SESSION_ROUTABLE_HEARTBEAT_SECONDS default
  await resetRouting(su, creds.org_id, agents);
  explains.push(
    await explain(
      su,
      `claim, ${AGENTS} agents free`,
      CLAIM_SQL,
      [creds.org_id, window, '00000000-0000-4000-8000-000000000000'],
      creds.org_id,
    ),
  );
  const warm = await routingRun(su, creds, agents, 50, WARMUP_CALLS, 0);
  console.log(`(b) warm-up done (${fmt((WARMUP_CALLS * 1000) / warm.wallMs)} req/s; not reported)`);
  await meRun(su, creds.api_key, 50, WARMUP_CALLS, 0);
  if (CONCURRENCY.includes(1)) background = await measureBackground(su);
  const runs: RoutingRun[] = [];
  for (let round = 1; round <= ROUTING_ROUNDS; round++) {
    for (const concurrency of CONCURRENCY) {
      const calls = concurrency === 1 ? SERIAL_CALLS : CALLS;
      runs.push(await routingRun(su, creds, agents, concurrency, calls, round));
      runs.push(await meRun(su, creds.api_key, concurrency, calls, round));
    }
  }
  // The state the later calls of a run meet: every agent busy, the queue long.
  const full = await checkRouting(su, creds.org_id, agents);
  explains.push(
    await explain(
      su,
      `claim, all ${full.activeSum} agents busy (${full.queued} queued)`,
      CLAIM_SQL,
      [creds.org_id, window, '00000000-0000-4000-8000-000000000000'],
      creds.org_id,
    ),
  );
  explains.push(await explain(su, `queued-call pick, ${full.queued} queued`, QUEUED_SQL, [creds.org_id], creds.org_id));

  await waitForQuiet(QUIET_WAIT_MS);
  const trips = await roundTrips(su);
  const a = reportHeartbeats(hb);
  const b = reportRouting(runs, explains, trips);
  // The summary holds the default shape only (scaling runs vary agents and history).
  if (AGENTS === 200 && HISTORY_SESSIONS === 0) recordSessionFigures(a.ratio, a.rps, runs);
  console.log(`\nLoad average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  await resetRouting(su, creds.org_id, agents);
  await resources.release(su);
  const code = await stopProcess(app, STOP_TIMEOUT_MS);
  if (code !== 0) throw new Error(`app exit code after SIGTERM: ${code} (want 0). ${app.output()}`);
  await resources.cleanup();
  if (!a.ok || !b) {
    console.log('\nFAILED: errors, unexpected status codes or a failed overbooking check (see tables).');
    process.exitCode = 1;
  }
}

installExitHandlers(
  'sessions bench',
  resources,
  BOOT_TIMEOUT_MS +
    ROUNDS * 2 * ((WARMUP_S + DURATION_S + 10) * 1000 + QUIET_WAIT_MS) +
    (ROUTING_ROUNDS * CONCURRENCY.length * 2 + 2) * (QUIET_WAIT_MS + 60_000) +
    STOP_TIMEOUT_MS +
    BACKGROUND_MS +
    4 * 2 * STATS_SETTLE_MS +
    60_000,
);
runBench('sessions bench', resources, bench);
