/**
 * Outbound webhooks benchmark: deliveries/s and enqueue → delivered latency of the built app,
 * against the raw pg-boss send + no-op work throughput on the same database in the same run.
 * Run with `npm run bench:webhooks`.
 *
 * Goals (product issue): ≥ 1,000 deliveries/s, ≥ 0.3 of a raw sign + POST loop with no
 * database (test/bench/webhooks-raw-post.ts, same receiver, same concurrency), p99 < 1 s at
 * that rate; the raw pg-boss send + no-op work rate is reported beside it. Missed goals are reported, never a reason to fail; missing deliveries, a failed
 * signature check, a misrouted delivery or (in a run that was not cut short by the drain timeout)
 * a delivery row not 'succeeded' fail the bench (exit 1).
 *
 * Processes. One `node dist/src/main.js api` (it starts the embedded PostgreSQL in a temp
 * DATA_DIR on BENCH_PG_PORT and writes the demo credentials; role api runs no queue consumer and
 * no outbox relay), then BENCH_WORKERS (2) `node dist/src/main.js worker` on the same DATA_DIR
 * and EMBEDDED_PG_PORT, so they share that database (each on its own HEALTH_PORT). Every process
 * gets WEBHOOKS_ALLOW_PRIVATE_TARGETS=true, WEBHOOKS_ALLOW_HTTP=true, LOG_LEVEL=warn,
 * RATE_LIMIT_*_PER_HOUR=100000000 and SHUTDOWN_DELAY_MS=0; DATABASE_URL and the other database
 * variables are removed; everything else is the default configuration.
 *
 * Receiver: a node:http server in this process on 127.0.0.1 (ephemeral port) answers 204 as soon
 * as a request's body is complete, then notes the receive time, the path, the `webhook-id`
 * header, the raw body and the headers. 10 endpoints are created with the demo key through
 * `POST /api/webhooks/endpoints {url: http://127.0.0.1:<port>/hooks/<i>, event_types:
 * ["webhook.test"]}`; their secrets are kept. After each measurement every request received is
 * verified with the `standardwebhooks` package (`new Webhook(secret).verify(body, headers)`, with
 * Date.now() held at the request's receive time so the 5-minute tolerance is judged as a live
 * receiver would), and checked to name the endpoint whose path received it. Duplicates (a
 * webhook-id received more than once) are counted and reported.
 *
 * Events are inserted into the outbox as the embedded superuser, as EventPublisher would:
 * `INSERT INTO domain_events (org_id, type, data) SELECT … FROM generate_series(…)`, type
 * `webhook.test`, data `{"target_endpoint_id": <endpoint>, "seq": n}` (the fanout sends an event
 * naming target_endpoint_id to that endpoint only, so one event = one delivery). The statement-level
 * trigger `domain_events_notify` NOTIFYs `calmops_domain_events` at commit, which wakes the relay as
 * in the app. With 1 endpoint every event goes to endpoint 1; with k, events go round-robin over
 * the first k endpoints: every case is BENCH_EVENTS deliveries. `seq` is unique over the whole run and
 * maps each received request to its event's insert commit time (taken in this process when the
 * INSERT returned). Before the measurements, BENCH_WARMUP_EVENTS (20) events over all the endpoints
 * are delivered and not reported.
 *
 * For each endpoint count in BENCH_ENDPOINTS ("1,10,100"), two measurements, each after waiting for a
 * quiet machine (and VACUUM ANALYZE of the outbox and webhook tables):
 * (a) Burst: BENCH_EVENTS (10,000) events in INSERTs of BENCH_BURST_BATCH (2,000) rows, one after
 *     the other, as fast as possible. deliveries/s = received / (last receive − first insert
 *     start). Latency of a delivery = its receive time − the commit time of its event's INSERT
 *     (p50 / p90 / p99 / max over the first receipt of each event).
 * (b) Paced: BENCH_RATE (1,000) events/s for BENCH_PACED_SECONDS (10): every BENCH_TICK_MS (50) an
 *     INSERT of the events due by then. Achieved insert and delivery rates and the same latency.
 *     The "p99 < 1 s at that rate" goal is judged on this one.
 * Each waits for all its deliveries, at most BENCH_DRAIN_TIMEOUT_MS (120,000) after its last
 * INSERT; what has not arrived by then is reported missing and the backlog is purged (outbox rows
 * marked relayed, queued jobs of the fanout and delivery queues deleted, pending delivery rows
 * marked failed) so the next measurement starts clean. Afterwards, from the database: delivery
 * rows by status, rows with attempts > 1, and p50 / p99 of each stage: outbox row (its
 * transaction's start) → relayed, relayed → delivery row created by the fanout, delivery row
 * created → succeeded_at.
 *
 * Raw pg-boss ceiling, after the webhook measurements, with the app still running: BENCH_WORKERS
 * (2) child processes (test/bench/webhooks-raw-worker.ts) each start a PgBoss like the app's
 * QueueService (schema pgboss, role calmops_sys, pool max(2, ceil(10 / 2)) = 5; maintenance and
 * schedule off) and call work() on the queue `bench.raw-noop` — created with the queue options of
 * `webhooks.deliver` as stored in the database — as many times and with the options the app's
 * JobRegistry uses for `webhooks.deliver` (workers, batchSize from its @JobHandler, read from
 * the built code; includeMetadata; pollingIntervalSeconds = QUEUE_POLL_INTERVAL_SECONDS as the
 * workers load it), with a handler that only notes the time and reports it over IPC. This process
 * then sends BENCH_EVENTS jobs with `send()`, BENCH_RAW_IN_FLIGHT (16) at a time (its pool is as
 * large). Reported: send-only rate, jobs/s from the first send to the last handler call, send →
 * handled p50 / p99, and the ratio deliveries/s ÷ raw jobs/s per endpoint case. BENCH_RAW=0 skips it.
 *
 * CPU time of the api, of each worker, of PostgreSQL (postmaster + backends), of this process
 * (receiver + inserts) and of the raw workers is sampled from /proc around each measurement, with
 * the machine's busy CPUs. warn / error log lines of the app processes are counted and listed.
 * The end of the output is a markdown section ready to paste into test/bench/RESULTS.md.
 *
 * Settings (env): BENCH_EVENTS (10000), BENCH_ENDPOINTS ("1,10,100"; 1..100), BENCH_RATE (1000 events/s),
 * BENCH_PACED_SECONDS (10; 0 = skip the paced runs), BENCH_TICK_MS (50), BENCH_BURST_BATCH (2000),
 * BENCH_WARMUP_EVENTS (20), BENCH_DRAIN_TIMEOUT_MS (120000), BENCH_WORKERS (2), BENCH_RAW (1),
 * BENCH_RAW_IN_FLIGHT (16), BENCH_VACUUM (1; 0 = no VACUUM ANALYZE between measurements),
 * BENCH_PORT (3960: the api; its HEALTH_PORT is +2, the workers' probes +3, +4, …),
 * BENCH_PG_PORT (5960), BENCH_BOOT_TIMEOUT_MS (90000), BENCH_QUIET_WAIT_MS (30000: before each
 * measurement wait up to this long for other processes to use < 0.3 CPU over 1 s; 0 = never wait).
 */
import { ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import PgBoss from 'pg-boss';
import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  cpuStr,
  CpuSample,
  DemoCredentials,
  embeddedUrl,
  envIntList,
  envNumber,
  fmt,
  httpRequest,
  installExitHandlers,
  LogProblems,
  machineInfo,
  loadStr,
  MAIN,
  msStr,
  nowMs,
  postgresCpuMs,
  postmasterPid,
  processCpuMs,
  QUIET_BUSY_CPUS,
  readDemoCredentials,
  ROOT,
  selfCpuMs,
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
import { Figure, recordFigures } from './summary';

const EVENTS = envNumber('BENCH_EVENTS', 10_000);
const ENDPOINT_CASES = envIntList('BENCH_ENDPOINTS', '1,10,100', 1, 100);
const RATE = envNumber('BENCH_RATE', 1000);
const PACED_SECONDS = envNumber('BENCH_PACED_SECONDS', 10, true);
const TICK_MS = envNumber('BENCH_TICK_MS', 50);
const BURST_BATCH = envNumber('BENCH_BURST_BATCH', 2000);
const WARMUP_EVENTS = envNumber('BENCH_WARMUP_EVENTS', 20, true);
const DRAIN_TIMEOUT_MS = envNumber('BENCH_DRAIN_TIMEOUT_MS', 120_000);
const WORKERS = envNumber('BENCH_WORKERS', 2);
const RAW = envNumber('BENCH_RAW', 1, true) > 0;
const RAW_IN_FLIGHT = envNumber('BENCH_RAW_IN_FLIGHT', 16);
const VACUUM = envNumber('BENCH_VACUUM', 1, true) > 0;
const PORT = envNumber('BENCH_PORT', 3960);
const PG_PORT = envNumber('BENCH_PG_PORT', 5960);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 90_000);
const QUIET_WAIT_MS = envNumber('BENCH_QUIET_WAIT_MS', 30_000, true);
const STOP_TIMEOUT_MS = 40_000;
/** Endpoints created (each case uses the first k of them). */
const ENDPOINTS = Math.max(...ENDPOINT_CASES);

const GOAL_RATE = 1000;
/** Deliveries/s ÷ the raw sign + POST loop (no database). */
const GOAL_POST_RATIO = 0.3;
const GOAL_P99_MS = 1000;

const QUEUE_SCHEMA = 'pgboss'; // libs/queue/queue-schema.ts
const DELIVER_QUEUE = 'webhooks.deliver'; // src/webhooks/delivery-worker.service.ts
const RAW_QUEUE = 'bench.raw-noop';
/** DATABASE_POOL_SIZE default (10) as QueueService sizes pg-boss' pool: max(2, ceil(size / 2)). */
const QUEUE_POOL_MAX = Math.max(2, Math.ceil(10 / 2));
const WEBHOOK_TABLES = 'domain_events, webhook_deliveries, webhook_delivery_log, webhook_endpoints';

const resources = new BenchResources();
const problems = new LogProblems();
let dataDir = '';
let api: Spawned | undefined;
const workers: Spawned[] = [];

// ---------------------------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------------------------

interface Receipt {
  /** Receive time (body complete), ms since the epoch with sub-ms precision. */
  at: number;
  /** Endpoint index from the path /hooks/<i>; -1 when the path is not one of ours. */
  endpoint: number;
  id: string;
  /** data.seq of the payload; -1 when it has none. */
  seq: number;
  body?: string;
  headers?: Record<string, string>;
  verified?: boolean;
}

/** The deliveries of one measurement: events with seq in [base, base + n). */
interface Window {
  label: string;
  base: number;
  n: number;
  /** First receipt of each event. */
  first: (Receipt | undefined)[];
  /** Every request received for the window's events, duplicates included. */
  all: Receipt[];
  count: number;
  duplicates: number;
  lastAt: number;
  closed: boolean;
  /** Receipts that came after the window was closed (its measurement had given up on them). */
  late: number;
}

class Receiver {
  private server?: Server;
  port = 0;
  requests = 0;
  unattributed = 0;
  raw = 0;
  private readonly seen = new Map<string, number>();
  private readonly windows: Window[] = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((done) => this.server!.listen(0, '127.0.0.1', done));
    this.port = (this.server.address() as AddressInfo).port;
    resources.onCleanup(() => this.stop());
  }

  stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((done) => server.close(() => done()));
  }

  open(label: string, base: number, n: number): Window {
    const w: Window = {
      label,
      base,
      n,
      first: new Array<Receipt | undefined>(n),
      all: [],
      count: 0,
      duplicates: 0,
      lastAt: 0,
      closed: false,
      late: 0,
    };
    this.windows.push(w);
    return w;
  }

  get allWindows(): readonly Window[] {
    return this.windows;
  }

  get duplicateIds(): number {
    let n = 0;
    for (const c of this.seen.values()) if (c > 1) n++;
    return n;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const at = nowMs();
      res.writeHead(204).end();
      // The raw sign + POST reference: answered alike, counted apart.
      if (req.url?.startsWith('/raw/')) this.raw++;
      else this.record(req, Buffer.concat(chunks).toString('utf8'), at);
    });
  }

  private record(req: IncomingMessage, body: string, at: number): void {
    this.requests++;
    const m = /^\/hooks\/(\d+)$/.exec(req.url ?? '');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v[0] : v;
    let seq = -1;
    try {
      const s = (JSON.parse(body) as { data?: { seq?: unknown } }).data?.seq;
      if (typeof s === 'number' && Number.isInteger(s)) seq = s;
    } catch {
      /* not ours */
    }
    const r: Receipt = { at, endpoint: m ? Number(m[1]) : -1, id: headers['webhook-id'] ?? '', seq, body, headers };
    const times = (this.seen.get(r.id) ?? 0) + 1;
    this.seen.set(r.id, times);
    const w = this.windows.find((x) => seq >= x.base && seq < x.base + x.n);
    if (!w) {
      this.unattributed++;
      return;
    }
    w.all.push(r);
    if (w.closed) w.late++;
    const i = seq - w.base;
    if (w.first[i]) {
      w.duplicates++;
      return;
    }
    w.first[i] = r;
    w.count++;
    w.lastAt = Math.max(w.lastAt, at);
  }
}

const receiver = new Receiver();

// ---------------------------------------------------------------------------------------------
// Verification (standardwebhooks)
// ---------------------------------------------------------------------------------------------

interface Endpoint {
  index: number;
  id: string;
  secret: string;
  webhook: Webhook;
}

const verification = { verified: 0, failed: 0, misrouted: 0, failures: [] as string[] };

/** Verifies every receipt not verified yet, as of its receive time, then drops its body and headers. */
function verifyPending(endpoints: Endpoint[]): void {
  const realNow = Date.now;
  for (const w of receiver.allWindows) {
    for (const r of w.all) {
      if (r.verified) continue;
      r.verified = true;
      const e = endpoints[r.endpoint];
      let ok = false;
      let reason = '';
      if (!e) reason = `unknown endpoint path (${r.endpoint})`;
      else {
        Date.now = () => Math.floor(r.at);
        try {
          const payload = e.webhook.verify(r.body ?? '', r.headers ?? {}) as { data?: { target_endpoint_id?: string } };
          ok = true;
          if (payload?.data?.target_endpoint_id !== e.id) {
            verification.misrouted++;
            if (verification.failures.length < 5)
              verification.failures.push(`seq ${r.seq}: misrouted to /hooks/${r.endpoint}`);
          }
        } catch (err) {
          reason = (err as Error).message;
        } finally {
          Date.now = realNow;
        }
      }
      if (ok) verification.verified++;
      else {
        verification.failed++;
        if (verification.failures.length < 5) verification.failures.push(`seq ${r.seq} (${r.id}): ${reason}`);
      }
      r.body = undefined;
      r.headers = undefined;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Outbox inserts and database checks
// ---------------------------------------------------------------------------------------------

/** Events from..to (inclusive) in one statement, round-robin over the endpoints by seq. */
async function insertEvents(su: Client, orgId: string, endpointIds: string[], from: number, to: number): Promise<void> {
  await su.query(
    `INSERT INTO domain_events (org_id, type, data)
     SELECT $1::uuid, 'webhook.test',
            jsonb_build_object('target_endpoint_id', ($2::text[])[1 + s % cardinality($2::text[])], 'seq', s)
     FROM generate_series($3::int, $4::int) AS s`,
    [orgId, endpointIds, from, to],
  );
}

interface DbStats {
  events: number;
  byStatus: Record<string, number>;
  retried: number;
  logRows: number;
  relayed?: Stats2;
  fannedOut?: Stats2;
  delivered?: Stats2;
}

interface Stats2 {
  p50: number;
  p99: number;
}

/** How the measurement's events and their deliveries look in the database (superuser: no RLS). */
async function dbStats(su: Client, from: number, to: number): Promise<DbStats> {
  const { rows } = await su.query<{
    events: number;
    retried: number;
    log_rows: number;
    relay_p50: number | null;
    relay_p99: number | null;
    fan_p50: number | null;
    fan_p99: number | null;
    del_p50: number | null;
    del_p99: number | null;
  }>(
    `WITH e AS (SELECT id, created_at, relayed_at FROM domain_events
                WHERE type = 'webhook.test' AND (data->>'seq')::int BETWEEN $1 AND $2),
          j AS (SELECT e.created_at AS e_created, e.relayed_at, d.id, d.created_at AS d_created, d.succeeded_at, d.attempts
                FROM e LEFT JOIN webhook_deliveries d ON d.event_id = e.id)
     SELECT count(*)::int AS events,
            count(*) FILTER (WHERE attempts > 1)::int AS retried,
            (SELECT count(*) FROM webhook_delivery_log l WHERE l.delivery_id IN (SELECT id FROM j))::int AS log_rows,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - e_created)) * 1000 AS relay_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - e_created)) * 1000 AS relay_p99,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d_created - relayed_at)) * 1000 AS fan_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM d_created - relayed_at)) * 1000 AS fan_p99,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM succeeded_at - d_created)) * 1000 AS del_p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM succeeded_at - d_created)) * 1000 AS del_p99
     FROM j`,
    [from, to],
  );
  const { rows: statuses } = await su.query<{ status: string; n: number }>(
    `SELECT coalesce(d.status, '(no delivery row)') AS status, count(*)::int AS n
     FROM domain_events e LEFT JOIN webhook_deliveries d ON d.event_id = e.id
     WHERE e.type = 'webhook.test' AND (e.data->>'seq')::int BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1`,
    [from, to],
  );
  const r = rows[0];
  const pair = (a: number | null, b: number | null) => (a === null || b === null ? undefined : { p50: a, p99: b });
  return {
    events: r.events,
    byStatus: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    retried: r.retried,
    logRows: r.log_rows,
    relayed: pair(r.relay_p50, r.relay_p99),
    fannedOut: pair(r.fan_p50, r.fan_p99),
    delivered: pair(r.del_p50, r.del_p99),
  };
}

/** Waits (at most 15 s) until no delivery of the range is 'delivering' (its record step committed). */
async function settle(su: Client, from: number, to: number): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const { rows } = await su.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_deliveries d JOIN domain_events e ON e.id = d.event_id
       WHERE d.status = 'delivering' AND e.type = 'webhook.test' AND (e.data->>'seq')::int BETWEEN $1 AND $2`,
      [from, to],
    );
    if (rows[0].n === 0) return;
    await sleep(100);
  }
}

/**
 * After a drain timeout: drops what is still queued so the next measurement starts clean. Outbox
 * rows are marked relayed, queued (not active) jobs of the fanout and delivery queues are deleted,
 * pending / deferred delivery rows are marked failed. Jobs already running finish on their own.
 */
async function purgeBacklog(su: Client): Promise<string> {
  const e = await su.query(`UPDATE domain_events SET relayed_at = now() WHERE relayed_at IS NULL`);
  const j = await su.query(
    `DELETE FROM ${QUEUE_SCHEMA}.job WHERE state IN ('created', 'retry')
       AND (name = $1 OR (name LIKE 'event.%' AND data->>'type' = 'webhook.test'))`,
    [DELIVER_QUEUE],
  );
  const d = await su.query(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = 'bench: purged after the drain timeout',
       updated_at = now() WHERE status IN ('pending', 'deferred')`,
  );
  await sleep(3000); // let running jobs end
  return `purged ${e.rowCount} unrelayed events, ${j.rowCount} queued jobs, ${d.rowCount} pending deliveries`;
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

interface Run {
  kind: 'burst' | 'paced';
  endpoints: number;
  window: Window;
  events: number;
  received: number;
  missing: number;
  startAt: number;
  lastInsertAt: number;
  /** Deliveries per second: received / (last receive − first insert start). */
  rate: number;
  insertRate: number;
  latency?: Stats;
  timedOut: boolean;
  purge?: string;
  db: DbStats;
  busyBefore?: number;
  cpu: CpuSample;
}

let nextSeq = 1;

function cpuGroups(extra: Record<string, () => number> = {}): Record<string, () => number> {
  const pg = postmasterPid(dataDir);
  const groups: Record<string, () => number> = { api: () => processCpuMs(api!.child.pid!) };
  workers.forEach((w, i) => (groups[`worker ${i + 1}`] = () => processCpuMs(w.child.pid!)));
  groups.PostgreSQL = () => postgresCpuMs(pg);
  groups.bench = selfCpuMs;
  return { ...groups, ...extra };
}

async function vacuum(su: Client): Promise<void> {
  if (VACUUM) await su.query(`VACUUM ANALYZE ${WEBHOOK_TABLES}`);
}

/** Waits until the window has all its events or DRAIN_TIMEOUT_MS passed since `since`. */
async function drain(w: Window, since: number): Promise<boolean> {
  while (w.count < w.n) {
    if (nowMs() - since > DRAIN_TIMEOUT_MS) return false;
    await sleep(20);
  }
  return true;
}

async function measure(
  kind: 'burst' | 'paced',
  su: Client,
  creds: DemoCredentials,
  endpoints: Endpoint[],
  k: number,
): Promise<Run> {
  const ids = endpoints.slice(0, k).map((e) => e.id);
  const n = kind === 'burst' ? EVENTS : RATE * PACED_SECONDS;
  await vacuum(su);
  const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
  const base = nextSeq;
  nextSeq += n;
  const w = receiver.open(`${kind} ×${k}`, base, n);
  const commitAt = new Float64Array(n);
  const stopCpu = startCpuSample(cpuGroups());
  const startAt = nowMs();
  if (kind === 'burst') {
    for (let from = 0; from < n; from += BURST_BATCH) {
      const to = Math.min(n, from + BURST_BATCH);
      await insertEvents(su, creds.org_id, ids, base + from, base + to - 1);
      commitAt.fill(nowMs(), from, to);
    }
  } else {
    let inserted = 0;
    for (let tick = 1; inserted < n; tick++) {
      const wait = startAt + tick * TICK_MS - nowMs();
      if (wait > 0) await sleep(wait);
      const due = Math.min(n, Math.floor((RATE * (nowMs() - startAt)) / 1000));
      if (due <= inserted) continue;
      await insertEvents(su, creds.org_id, ids, base + inserted, base + due - 1);
      commitAt.fill(nowMs(), inserted, due);
      inserted = due;
    }
  }
  const lastInsertAt = nowMs();
  const complete = await drain(w, lastInsertAt);
  const cpu = stopCpu();
  w.closed = true;
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = w.first[i];
    if (r) latencies.push(r.at - commitAt[i]);
  }
  const run: Run = {
    kind,
    endpoints: k,
    window: w,
    events: n,
    received: w.count,
    missing: n - w.count,
    startAt,
    lastInsertAt,
    rate: w.count && w.lastAt > startAt ? w.count / ((w.lastAt - startAt) / 1000) : 0,
    insertRate: n / ((lastInsertAt - startAt) / 1000),
    latency: stats(latencies),
    timedOut: !complete,
    db: { events: 0, byStatus: {}, retried: 0, logRows: 0 },
    busyBefore,
    cpu,
  };
  if (complete) await settle(su, base, base + n - 1);
  run.db = await dbStats(su, base, base + n - 1);
  if (!complete) run.purge = await purgeBacklog(su);
  verifyPending(endpoints);
  const l = run.latency;
  console.log(
    `${kind} ×${k} endpoint(s): ${fmt(run.received)}/${fmt(n)} received in ${fmt((w.lastAt - startAt) / 1000, 2)} s → ` +
      `${fmt(run.rate)} deliveries/s (inserts ${fmt(run.insertRate)}/s); latency p50 ${msStr(l?.p50)} p99 ` +
      `${msStr(l?.p99)} max ${msStr(l?.max)} ms; statuses ${JSON.stringify(run.db.byStatus)}` +
      (run.purge ? `; DRAIN TIMEOUT: ${run.purge}` : ''),
  );
  return run;
}

// ---------------------------------------------------------------------------------------------
// Raw pg-boss ceiling
// ---------------------------------------------------------------------------------------------

interface WorkOptions {
  workers: number;
  batchSize: number;
  pollingIntervalSeconds: number;
  source: string;
}

/** The app's work() options of webhooks.deliver: its @JobHandler (built code) and QUEUE_POLL_INTERVAL_SECONDS. */
function deliverWorkOptions(workerEnv: NodeJS.ProcessEnv): WorkOptions {
  let pollingIntervalSeconds = 1;
  let source = 'built code';
  try {
    const { AppConfig } = require(join(ROOT, 'dist', 'libs', 'config')) as {
      AppConfig: { load(env: NodeJS.ProcessEnv): { get(name: string): unknown } };
    };
    pollingIntervalSeconds = Number(AppConfig.load(workerEnv).get('QUEUE_POLL_INTERVAL_SECONDS'));
  } catch (err) {
    source = `fallbacks (${(err as Error).message})`;
  }
  try {
    require('reflect-metadata');
    const { JOB_HANDLER } = require(join(ROOT, 'dist', 'libs', 'queue', 'job-handler.decorator.js')) as {
      JOB_HANDLER: symbol;
    };
    const { DeliverWebhookJob } = require(join(ROOT, 'dist', 'src', 'webhooks', 'jobs', 'deliver-webhook.job.js')) as {
      DeliverWebhookJob: { prototype: { deliver: object } };
    };
    const reflect = Reflect as unknown as { getMetadata(key: unknown, target: object): unknown };
    const meta = reflect.getMetadata(JOB_HANDLER, DeliverWebhookJob.prototype.deliver) as
      { queueName: string; workers?: number; batchSize?: number } | undefined;
    if (meta?.queueName !== DELIVER_QUEUE) throw new Error('no @JobHandler metadata on DeliverWebhookJob.deliver');
    // JobRegistry: `workers ?? 1` work() calls, each with `batchSize ?? 1`.
    return { workers: meta.workers ?? 1, batchSize: meta.batchSize ?? 1, pollingIntervalSeconds, source };
  } catch (err) {
    return {
      workers: 8,
      batchSize: 1,
      pollingIntervalSeconds,
      source: `fallbacks 8 × batch 1 (${(err as Error).message})`,
    };
  }
}

interface RawResult {
  jobs: number;
  work: WorkOptions;
  queueOptions: Record<string, unknown>;
  sendRate: number;
  handled: number;
  /** Jobs per second from the first send to the last handler call. */
  rate: number;
  latency?: Stats;
  timedOut: boolean;
  states: Record<string, number>;
  busyBefore?: number;
  cpu: CpuSample;
  errors: string[];
}

async function rawCeiling(workerEnv: NodeJS.ProcessEnv): Promise<RawResult> {
  const systemUrl = embeddedUrl(dataDir, PG_PORT, 'system');
  const boss = new PgBoss({
    connectionString: systemUrl,
    schema: QUEUE_SCHEMA,
    application_name: 'calmops:bench-raw-send',
    max: RAW_IN_FLIGHT,
    migrate: false,
    supervise: false,
    schedule: false,
  });
  const errors: string[] = [];
  boss.on('error', (err: Error) => errors.push(`sender: ${err.message}`));
  await boss.start();
  resources.onCleanup(() => boss.stop({ graceful: false, close: true, wait: true }).catch(() => undefined));

  const deliver = (await boss.getQueue(DELIVER_QUEUE)) as unknown as Record<string, unknown> | null;
  if (!deliver) throw new Error(`queue ${DELIVER_QUEUE} does not exist`);
  const keys = ['policy', 'retryLimit', 'retryDelay', 'retryBackoff', 'expireInSeconds', 'retentionMinutes'];
  const queueOptions = Object.fromEntries(keys.filter((k) => deliver[k] != null).map((k) => [k, deliver[k]]));
  if (!(await boss.getQueue(RAW_QUEUE))) await boss.createQueue(RAW_QUEUE, { name: RAW_QUEUE, ...queueOptions });
  const work = deliverWorkOptions(workerEnv);

  const n = EVENTS;
  const sendAt = new Float64Array(n);
  const handledAt = new Float64Array(n);
  let handled = 0;
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(join(__dirname, 'webhooks-raw-worker.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_RAW_CONFIG: JSON.stringify({
          url: systemUrl,
          schema: QUEUE_SCHEMA,
          queue: RAW_QUEUE,
          applicationName: `calmops:bench-raw-work-${i + 1}`,
          max: QUEUE_POOL_MAX,
          workers: work.workers,
          batchSize: work.batchSize,
          pollingIntervalSeconds: work.pollingIntervalSeconds,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    resources.track(`raw worker ${i + 1}`, child, (line) => errors.push(`raw worker ${i + 1}: ${line}`));
    children.push(child);
    ready.push(
      new Promise((done, fail) => {
        child.on('message', (m: { type: string; items?: number[]; message?: string }) => {
          if (m.type === 'ready') done();
          else if (m.type === 'error') errors.push(`raw worker ${i + 1}: ${m.message}`);
          else if (m.type === 'done' && m.items) {
            for (let j = 0; j < m.items.length; j += 2) {
              const idx = m.items[j];
              if (idx >= 0 && idx < n && handledAt[idx] === 0) {
                handledAt[idx] = m.items[j + 1];
                handled++;
              }
            }
          }
        });
        child.once('exit', (code) => fail(new Error(`raw worker ${i + 1} exited (${code}): ${errors.join('; ')}`)));
      }),
    );
  }
  await Promise.all(ready);

  const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
  const rawPids = children.map((c) => c.pid!);
  const stopCpu = startCpuSample(
    cpuGroups({ 'raw workers': () => rawPids.reduce((a, pid) => a + processCpuMs(pid), 0) }),
  );
  const startAt = nowMs();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      sendAt[i] = nowMs();
      await boss.send(RAW_QUEUE, { i });
    }
  };
  await Promise.all(Array.from({ length: RAW_IN_FLIGHT }, lane));
  const sentAt = nowMs();
  let timedOut = false;
  while (handled < n) {
    if (nowMs() - sentAt > DRAIN_TIMEOUT_MS) {
      timedOut = true;
      break;
    }
    await sleep(20);
  }
  const cpu = stopCpu();
  let last = 0;
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!handledAt[i]) continue;
    last = Math.max(last, handledAt[i]);
    latencies.push(handledAt[i] - sendAt[i]);
  }
  for (const c of children) c.send({ type: 'stop' });
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((d) => c.once('exit', d)) : null)));
  const su = await resources.connect(embeddedUrl(dataDir, PG_PORT, 'superuser'), 'calmops:bench-webhooks-raw');
  const { rows } = await su.query<{ state: string; n: number }>(
    `SELECT state::text, count(*)::int AS n FROM ${QUEUE_SCHEMA}.job WHERE name = $1 GROUP BY 1 ORDER BY 1`,
    [RAW_QUEUE],
  );
  if (timedOut) await su.query(`DELETE FROM ${QUEUE_SCHEMA}.job WHERE name = $1 AND state < 'active'`, [RAW_QUEUE]);
  await resources.release(su);
  await boss.stop({ graceful: false, close: true, wait: true }).catch(() => undefined);
  const result: RawResult = {
    jobs: n,
    work,
    queueOptions,
    sendRate: n / ((sentAt - startAt) / 1000),
    handled,
    rate: handled && last > startAt ? handled / ((last - startAt) / 1000) : 0,
    latency: stats(latencies),
    timedOut,
    states: Object.fromEntries(rows.map((r) => [r.state, r.n])),
    busyBefore,
    cpu,
    errors,
  };
  console.log(
    `raw pg-boss: ${fmt(handled)}/${fmt(n)} handled → ${fmt(result.rate)} jobs/s (send-only ${fmt(result.sendRate)}/s); ` +
      `send → handled p50 ${msStr(result.latency?.p50)} p99 ${msStr(result.latency?.p99)} ms; ` +
      `work() ${WORKERS} × ${work.workers} × batch ${work.batchSize}, polling ${work.pollingIntervalSeconds} s` +
      (timedOut ? '; DRAIN TIMEOUT' : ''),
  );
  return result;
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const sec = (ms: number) => (ms / 1000).toFixed(1);
const pair = (s?: Stats2) => (s ? `${msStr(s.p50)} / ${msStr(s.p99)}` : '—');
const busyCell = (before: number | undefined, during: number | undefined) =>
  `${cpuStr(before)} → ${cpuStr(during)}` +
  (before !== undefined && before >= QUIET_BUSY_CPUS ? ' (busy machine)' : '');

interface RawPostResult {
  requests: number;
  ok: number;
  failed: number;
  received: number;
  concurrency: number;
  endpoints: number;
  /** Requests per second, from 'go' to the last child's end. */
  rate: number;
  cpu: CpuSample;
}

/**
 * The raw ceiling of the issue: BENCH_WORKERS child processes (test/bench/webhooks-raw-post.ts),
 * each signing with the app's signer and POSTing with the app's HTTP client to the same
 * receiver, as many at once as one worker process of the app has in flight (its deliver
 * loops × deliveries per job, from the built code), no database.
 */
async function rawPostCeiling(endpoints: Endpoint[], k: number, workers: number): Promise<RawPostResult> {
  const { DELIVERIES_PER_JOB } = require(join(ROOT, 'dist', 'src', 'webhooks', 'delivery-worker.service.js')) as {
    DELIVERIES_PER_JOB: number;
  };
  const concurrency = workers * DELIVERIES_PER_JOB;
  const chosen = endpoints.slice(0, k);
  const perChild = Math.ceil(EVENTS / WORKERS);
  const errors: string[] = [];
  const children: ChildProcess[] = [];
  const results: Promise<{ sent: number; ok: number; failed: number }>[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < WORKERS; i++) {
    const child = fork(join(__dirname, 'webhooks-raw-post.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_RAW_POST_CONFIG: JSON.stringify({
          root: ROOT,
          urls: chosen.map((e) => `http://127.0.0.1:${receiver.port}/raw/${e.index}`),
          secrets: chosen.map((e) => e.secret),
          requests: perChild,
          concurrency,
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    resources.track(`raw POST loop ${i + 1}`, child, (line) => errors.push(line));
    children.push(child);
    ready.push(new Promise((done) => child.on('message', (m: { type: string }) => m.type === 'ready' && done())));
    results.push(
      new Promise((done, fail) => {
        child.on('message', (m: { type: string; sent: number; ok: number; failed: number; message?: string }) => {
          if (m.type === 'done') done(m);
          else if (m.type === 'error') fail(new Error(m.message));
        });
        child.once('exit', (code) => code && fail(new Error(`raw POST loop exited (${code}): ${errors.join('; ')}`)));
      }),
    );
  }
  await Promise.all(ready);
  await waitForQuiet(QUIET_WAIT_MS);
  const pids = children.map((c) => c.pid!);
  const stopCpu = startCpuSample(cpuGroups({ 'raw workers': () => pids.reduce((a, pid) => a + processCpuMs(pid), 0) }));
  const before = receiver.raw;
  const t0 = nowMs();
  for (const c of children) c.send({ type: 'go' });
  const done = await Promise.all(results);
  const wall = nowMs() - t0;
  const cpu = stopCpu();
  const total = done.reduce((a, r) => a + r.sent, 0);
  const result: RawPostResult = {
    requests: total,
    ok: done.reduce((a, r) => a + r.ok, 0),
    failed: done.reduce((a, r) => a + r.failed, 0),
    received: receiver.raw - before,
    concurrency,
    endpoints: k,
    rate: (total * 1000) / wall,
    cpu,
  };
  console.log(
    `raw sign + POST, ${k} endpoint(s): ${fmt(result.ok)}/${fmt(total)} answered 2xx (${fmt(result.received)} received) ` +
      `→ ${fmt(result.rate)}/s at ${concurrency} in flight per process`,
  );
  return result;
}

function report(
  runs: Run[],
  raw: RawResult | undefined,
  workOpts: string,
  failures: string[],
  rawPosts: RawPostResult[] = [],
): void {
  const out: string[] = [];
  const p = (line = '') => out.push(line);
  p(`## Webhooks (npm run bench:webhooks)`);
  p();
  p(
    `Machine: ${machineInfo()}. Processes: 1 \`api\` (owns the embedded PostgreSQL) + ${WORKERS} \`worker\`. ` +
      `${fmt(EVENTS)} events per burst; with k endpoints the events go round-robin over them (still ` +
      `${fmt(EVENTS)} deliveries). Paced: ${fmt(RATE)} events/s for ${PACED_SECONDS} s. App consumers of ` +
      `${DELIVER_QUEUE}: ${workOpts}.`,
  );
  p();
  p('### Summary');
  p();
  p(
    `| Case | Deliveries/s (burst) | p50 (ms) | p99 (ms) | Raw sign + POST loop (req/s) | Ratio | ` +
      `Raw pg-boss ceiling (jobs/s) | Ratio | Paced p99 (ms) at ${fmt(RATE)}/s | Goals met? (≥ ${fmt(GOAL_RATE)}/s, ` +
      `≥ ${GOAL_POST_RATIO} of the sign + POST loop, paced p99 < ${GOAL_P99_MS} ms) |`,
  );
  p('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  const figures: Figure[] = [];
  for (const k of ENDPOINT_CASES) {
    const b = runs.find((r) => r.kind === 'burst' && r.endpoints === k);
    const pc = runs.find((r) => r.kind === 'paced' && r.endpoints === k);
    if (!b) continue;
    const post = rawPosts.find((r) => r.endpoints === k);
    const ratio = raw && raw.rate > 0 ? b.rate / raw.rate : undefined;
    const postRatio = post && post.rate > 0 ? b.rate / post.rate : undefined;
    const checks = [
      b.rate >= GOAL_RATE ? 'rate yes' : 'rate NO',
      postRatio === undefined ? 'ratio ?' : postRatio >= GOAL_POST_RATIO ? 'ratio yes' : 'ratio NO',
      !pc || !pc.latency ? 'p99 ?' : pc.latency.p99 < GOAL_P99_MS && pc.missing === 0 ? 'p99 yes' : 'p99 NO',
    ];
    const met = checks.every((c) => c.endsWith('yes'));
    p(
      `| ${k} endpoint${k > 1 ? 's' : ''} | ${fmt(b.rate)} | ${msStr(b.latency?.p50, 0)} | ${msStr(b.latency?.p99, 0)} | ` +
        `${post ? fmt(post.rate) : '—'} | ${postRatio === undefined ? '—' : postRatio.toFixed(2)} | ` +
        `${raw ? fmt(raw.rate) : '—'} | ${ratio === undefined ? '—' : ratio.toFixed(2)} | ${msStr(pc?.latency?.p99, 0)} | ` +
        `${met ? 'yes' : 'no'} (${checks.join(', ')}) |`,
    );
    const name = `${k} endpoint${k > 1 ? 's' : ''}`;
    figures.push(
      {
        figure: `webhook deliveries end to end, burst, ${name}`,
        today: `${fmt(b.rate)}/s`,
        goal: `≥ ${fmt(GOAL_RATE)}/s`,
        met: b.rate >= GOAL_RATE,
      },
      {
        figure: `webhook deliveries ÷ raw sign + POST loop (no database), ${name}`,
        today:
          postRatio === undefined
            ? 'raw loop not run'
            : `${postRatio.toFixed(2)} (${fmt(b.rate)} vs ${fmt(post!.rate)}/s)`,
        goal: `≥ ${GOAL_POST_RATIO}`,
        met: postRatio === undefined ? null : postRatio >= GOAL_POST_RATIO,
      },
      {
        figure: `webhook delivery p99 paced at ${fmt(RATE)}/s, ${name}`,
        today: pc?.latency ? `${fmt(pc.latency.p99)} ms (${pc.missing} missing)` : 'not measured',
        goal: `< ${GOAL_P99_MS} ms`,
        met: pc?.latency ? pc.latency.p99 < GOAL_P99_MS && pc.missing === 0 : null,
      },
    );
  }
  recordFigures('webhooks', figures);
  if (rawPosts.length) {
    p();
    p(
      `Raw sign + POST loop: ${WORKERS} processes (test/bench/webhooks-raw-post.ts), each signing with the app's ` +
        `Standard Webhooks signer and POSTing with the app's HTTP client (kept-alive connections) to the same receiver, ` +
        `${rawPosts[0].concurrency} requests in flight per process (the app's deliver loops × deliveries per job), no database.`,
    );
    p();
    p('| Endpoints | Requests | 2xx | Received | Req/s | CPU s (bench / raw loops) |');
    p('|---:|---:|---:|---:|---:|---|');
    for (const r of rawPosts) {
      p(
        `| ${r.endpoints} | ${fmt(r.requests)} | ${fmt(r.ok)} | ${fmt(r.received)} | ${fmt(r.rate)} | ` +
          `${fmt((r.cpu.ms.bench ?? 0) / 1000, 1)} / ${fmt((r.cpu.ms['raw workers'] ?? 0) / 1000, 1)} |`,
      );
    }
  }
  p();
  p('### Measurements (enqueue = the INSERT into domain_events committed; delivered = the receiver has the body)');
  p();
  p(
    '| Case | Kind | Events | Received | Missing | Inserts/s | Deliveries/s | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | ' +
      'Duplicates | Busy CPUs before → during |',
  );
  p('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of runs) {
    const l = r.latency;
    p(
      `| ${r.endpoints} | ${r.kind} | ${fmt(r.events)} | ${fmt(r.received)} | ${fmt(r.missing)}${r.timedOut ? ' (timeout)' : ''} | ` +
        `${fmt(r.insertRate)} | ${fmt(r.rate)} | ${msStr(l?.p50, 0)} | ${msStr(l?.p90, 0)} | ${msStr(l?.p99, 0)} | ` +
        `${msStr(l?.max, 0)} | ${r.window.duplicates} | ${busyCell(r.busyBefore, r.cpu.busyCpus)} |`,
    );
  }
  p();
  p('### Stages from the database (p50 / p99 ms) and delivery rows');
  p();
  p(
    '| Case | Kind | Outbox row → relayed | Relayed → delivery row (fanout) | Delivery row → succeeded_at | ' +
      'Delivery rows by status | attempts > 1 | Attempt log rows |',
  );
  p('|---|---|---:|---:|---:|---|---:|---:|');
  for (const r of runs) {
    const st = Object.entries(r.db.byStatus)
      .map(([s, c]) => `${s} ${fmt(c)}`)
      .join(', ');
    p(
      `| ${r.endpoints} | ${r.kind} | ${pair(r.db.relayed)} | ${pair(r.db.fannedOut)} | ${pair(r.db.delivered)} | ${st} | ` +
        `${r.db.retried} | ${fmt(r.db.logRows)} |`,
    );
  }
  p();
  p('### CPU during each measurement (CPU seconds; ms per delivery in parentheses)');
  p();
  const groups = Object.keys(runs[0]?.cpu.ms ?? {});
  p(`| Case | Kind | Wall (s) | ${groups.join(' | ')} |`);
  p(`|---|---|---:|${groups.map(() => '---:').join('|')}|`);
  for (const r of runs) {
    const per = (v: number) => (r.received ? ` (${(v / r.received).toFixed(2)})` : '');
    p(
      `| ${r.endpoints} | ${r.kind} | ${sec(r.cpu.wallMs)} | ` +
        `${groups.map((g) => `${sec(r.cpu.ms[g])}${per(r.cpu.ms[g])}`).join(' | ')} |`,
    );
  }
  if (raw) {
    p();
    p('### Raw pg-boss ceiling (same database, after the webhook measurements, app still running)');
    p();
    p(
      `${WORKERS} processes × ${raw.work.workers} work() × batchSize ${raw.work.batchSize}, pollingIntervalSeconds ` +
        `${raw.work.pollingIntervalSeconds} (from ${raw.work.source}); queue \`${RAW_QUEUE}\` created with ` +
        `${JSON.stringify(raw.queueOptions)}; no-op handler; ${RAW_IN_FLIGHT} sends in flight.`,
    );
    const bound = (WORKERS * raw.work.workers * raw.work.batchSize) / raw.work.pollingIntervalSeconds;
    p();
    p(
      `Both the app and this reference re-fetch at once after a fetch that found jobs (pg-boss alone waits out ` +
        `the polling interval after every fetch, which would cap these options at ${WORKERS} × ` +
        `${raw.work.workers} × ${raw.work.batchSize} / ${raw.work.pollingIntervalSeconds} s = ${fmt(bound)} jobs/s).`,
    );
    p();
    p(
      '| Jobs | Handled | Send-only (jobs/s) | Send → handled (jobs/s) | Latency p50 (ms) | p99 (ms) | Job states after | ' +
        'Busy CPUs before → during | CPU s (api / workers / PG / bench / raw workers) |',
    );
    p('|---:|---:|---:|---:|---:|---:|---|---|---|');
    const c = raw.cpu.ms;
    const w = Object.keys(c)
      .filter((k) => k.startsWith('worker'))
      .reduce((a, k) => a + c[k], 0);
    p(
      `| ${fmt(raw.jobs)} | ${fmt(raw.handled)}${raw.timedOut ? ' (timeout)' : ''} | ${fmt(raw.sendRate)} | ${fmt(raw.rate)} | ` +
        `${msStr(raw.latency?.p50, 0)} | ${msStr(raw.latency?.p99, 0)} | ${JSON.stringify(raw.states)} | ` +
        `${busyCell(raw.busyBefore, raw.cpu.busyCpus)} | ${sec(c.api)} / ${sec(w)} / ${sec(c.PostgreSQL)} / ` +
        `${sec(c.bench)} / ${sec(c['raw workers'])} |`,
    );
    if (raw.errors.length) p(`\nRaw reference errors (first 5): ${raw.errors.slice(0, 5).join('; ')}`);
  }
  p();
  p('### Checks');
  p();
  const dupIds = receiver.duplicateIds;
  p(
    `- Signatures (standardwebhooks): ${fmt(verification.verified)} verified, ${verification.failed} failed, ` +
      `${verification.misrouted} delivered to the wrong endpoint, of ${fmt(receiver.requests)} requests received` +
      `${verification.failures.length ? ` (${verification.failures.join('; ')})` : ''}.`,
  );
  p(
    `- Duplicates: ${dupIds} webhook-id(s) received more than once ` +
      `(${runs.reduce((a, r) => a + r.window.duplicates, 0)} extra requests in the measurements); ` +
      `${receiver.unattributed} request(s) not from a bench event; ` +
      `${runs.reduce((a, r) => a + r.window.late, 0)} arrived after their measurement gave up.`,
  );
  p(
    `- App log lines at warn or above: ${problems.total}` +
      (problems.total
        ? `:\n${problems
            .top()
            .map((l) => `  - ${l}`)
            .join('\n')}`
        : '.'),
  );
  p(`- Result: ${failures.length ? `FAILED: ${failures.join('; ')}` : 'no missing delivery, every check passed'}.`);
  p(`- Load average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  console.log(`\n${out.join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function createEndpoints(apiKey: string): Promise<Omit<Endpoint, 'webhook'>[]> {
  const list: Omit<Endpoint, 'webhook'>[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const answer = await httpRequest({
      port: PORT,
      method: 'POST',
      path: '/api/webhooks/endpoints',
      headers: { 'x-api-key': apiKey },
      body: {
        url: `http://127.0.0.1:${receiver.port}/hooks/${i}`,
        event_types: ['webhook.test'],
        description: `bench endpoint ${i}`,
      },
    });
    if (answer?.status !== 201) throw new Error(`POST /api/webhooks/endpoints: ${answer?.status} ${answer?.body}`);
    const body = JSON.parse(answer.body) as { id: string; secret: string };
    list.push({ index: i, id: body.id, secret: body.secret });
  }
  return list;
}

async function bench(): Promise<number> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const workerPorts = Array.from({ length: WORKERS }, (_, i) => PORT + 3 + i);
  await assertPortsFree([PORT, ...workerPorts, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  const tmpRoot = resources.makeTempRoot('calmops-bench-webhooks-');
  dataDir = resources.dataDir(tmpRoot);
  console.log(
    `webhooks bench: ${machineInfo()}; ${fmt(EVENTS)} events per burst, endpoints ${ENDPOINT_CASES.join(', ')}, ` +
      `paced ${fmt(RATE)}/s × ${PACED_SECONDS} s, ${WORKERS} worker processes`,
  );
  const common = {
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOKS_ALLOW_HTTP: 'true',
  };
  const started = Date.now();
  api = spawnApp(
    resources,
    'CalmOps api',
    'api',
    appEnv(dataDir, PG_PORT, { ...common, PORT: String(PORT), HEALTH_PORT: String(PORT + 2) }),
    (line) => problems.line('api', line),
  );
  const creds = await waitForReady(api, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dataDir));
  const workerEnv = (i: number) =>
    appEnv(dataDir, PG_PORT, { ...common, PORT: String(PORT), HEALTH_PORT: String(workerPorts[i]) });
  for (let i = 0; i < WORKERS; i++) {
    workers.push(
      spawnApp(resources, `CalmOps worker ${i + 1}`, 'worker', workerEnv(i), (line) =>
        problems.line(`worker ${i + 1}`, line),
      ),
    );
  }
  for (let i = 0; i < WORKERS; i++) await waitForReady(workers[i], workerPorts[i], BOOT_TIMEOUT_MS);
  console.log(`app up in ${fmt((Date.now() - started) / 1000, 1)} s (api + ${WORKERS} workers)`);

  await receiver.start();
  const su = await resources.connect(embeddedUrl(dataDir, PG_PORT, 'superuser'), 'calmops:bench-webhooks');
  const endpoints: Endpoint[] = (await createEndpoints(creds.api_key)).map((e) => ({
    ...e,
    webhook: new Webhook(e.secret),
  }));
  const work = deliverWorkOptions(workerEnv(0));
  const workOpts =
    `${work.workers} work() × batchSize ${work.batchSize} per process, pollingIntervalSeconds ` +
    `${work.pollingIntervalSeconds} (from ${work.source})`;

  if (WARMUP_EVENTS) {
    const base = nextSeq;
    nextSeq += WARMUP_EVENTS;
    const w = receiver.open('warm-up', base, WARMUP_EVENTS);
    const t = nowMs();
    await insertEvents(
      su,
      creds.org_id,
      endpoints.map((e) => e.id),
      base,
      base + WARMUP_EVENTS - 1,
    );
    const ok = await drain(w, nowMs());
    w.closed = true;
    console.log(
      `warm-up: ${w.count}/${WARMUP_EVENTS} delivered in ${fmt((nowMs() - t) / 1000, 1)} s (not reported)` +
        (ok ? '' : `; ${await purgeBacklog(su)}`),
    );
    if (!w.count) throw new Error(`no warm-up delivery arrived. api output:\n${api.output()}`);
    verifyPending(endpoints);
  }

  const runs: Run[] = [];
  for (const k of ENDPOINT_CASES) {
    runs.push(await measure('burst', su, creds, endpoints, k));
    if (PACED_SECONDS) runs.push(await measure('paced', su, creds, endpoints, k));
  }
  const raw = RAW ? await rawCeiling(workerEnv(0)) : undefined;
  const rawPosts: RawPostResult[] = [];
  if (RAW) for (const k of ENDPOINT_CASES) rawPosts.push(await rawPostCeiling(endpoints, k, work.workers));
  await sleep(500);
  verifyPending(endpoints);

  const failures: string[] = [];
  const missing = runs.reduce((a, r) => a + r.missing, 0);
  if (missing) failures.push(`${fmt(missing)} deliveries missing`);
  if (verification.failed) failures.push(`${verification.failed} signature checks failed`);
  if (verification.misrouted) failures.push(`${verification.misrouted} deliveries to the wrong endpoint`);
  // A run that timed out has its undelivered rows counted as missing already.
  const notSucceeded = runs
    .filter((r) => !r.timedOut)
    .flatMap((r) => Object.entries(r.db.byStatus).filter(([status]) => status !== 'succeeded'))
    .reduce((a, [, count]) => a + count, 0);
  if (notSucceeded) failures.push(`${fmt(notSucceeded)} delivery rows not 'succeeded'`);

  await resources.release(su);
  await receiver.stop();
  // Workers first: the api started the embedded PostgreSQL and stops it when it exits.
  const codes = await Promise.all(workers.map((w) => stopProcess(w, STOP_TIMEOUT_MS)));
  codes.push(await stopProcess(api, STOP_TIMEOUT_MS));
  const bad = codes
    .map((c, i) => ({ c, name: i < workers.length ? `worker ${i + 1}` : 'api' }))
    .filter((x) => x.c !== 0);
  if (bad.length) failures.push(`exit codes after SIGTERM: ${bad.map((x) => `${x.name} ${x.c}`).join(', ')}`);
  report(runs, raw, workOpts, failures, rawPosts);
  await resources.cleanup();
  return failures.length ? 1 : 0;
}

const measurements = ENDPOINT_CASES.length * (PACED_SECONDS ? 2 : 1) + (RAW ? 1 : 0) + 1;
installExitHandlers(
  'webhooks bench',
  resources,
  2 * BOOT_TIMEOUT_MS +
    measurements * (QUIET_WAIT_MS + DRAIN_TIMEOUT_MS + PACED_SECONDS * 1000 + 120_000) +
    (WORKERS + 1) * STOP_TIMEOUT_MS +
    60_000,
);
bench()
  .then((code) => {
    if (code) console.log('\nFAILED (see Checks above).');
    process.exitCode = code;
  })
  .catch(async (err: Error) => {
    console.error(`webhooks bench failed: ${err.message}`);
    await resources.cleanup();
    process.exit(1);
  });
