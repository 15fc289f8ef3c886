/**
 * Incidents benchmark: the cost of one sampling + evaluation tick as orgs and processes grow, and
 * how long detection takes with the default sample interval. Run with `npm run bench:incidents`.
 *
 * The app runs in this process (the worker role, as in the e2e tests) on its own embedded
 * PostgreSQL (the test cluster's global setup: one server, a migrated template, one database per
 * scale). Every figure of a scale is measured in the same run as the reference scale.
 *
 * (a) Tick cost. Scales "orgs×processes" from BENCH_SCALES ("1x1,100x10,1000x10"; the first is the
 *     reference). Per scale, seeded as the superuser:
 *     - the orgs; each with one webhook endpoint and BENCH_ATTEMPTS (20) delivery attempts in the
 *       last 15 minutes (one in five failed); 1 % of them with an open breaker, 5 % with 2 queued
 *       calls and no agent, 2 % with a failed payroll run in the last hour;
 *     - processes − 1 simulated processes (two thirds api, one third worker) with fresh
 *       heartbeats and 15 minutes of samples every 15 s: their process and host signals, HTTP
 *       counters, and upload counters of BENCH_UPLOADING_ORGS (30) random orgs per api process
 *       and sample. The app itself is the last process.
 *     The app runs with HEALTH_SAMPLE_SECONDS=3600, so its own timers stay out of the way, and
 *     each measured tick is called directly: `ProcessSampler.sample()` then
 *     `IncidentDetector.evaluate()`, as the cron runs them. Before each tick (outside the
 *     measurement) the simulated processes refresh their heartbeats and write one more sample
 *     set. The first evaluations open the incidents the seed implies (warm-up, BENCH_WARMUP_TICKS,
 *     3); then BENCH_TICKS (10) ticks are measured: wall time, CPU of this process
 *     (process.cpuUsage), CPU of PostgreSQL (postmaster and backends from /proc) and the SQL
 *     statements sent (pg's Client.prototype.query, counted while the tick runs, without pg-boss's
 *     own statements, which name the queue schema). The idle background of this process (pg-boss
 *     polling, heartbeats) is measured over BENCH_IDLE_MS (5000) before the ticks and subtracted
 *     from the CPU figures pro rata.
 * (b) Detection latency with the default interval (HEALTH_SAMPLE_SECONDS unset: 15 s), the cluster
 *     cron of the app doing the work, on the largest scale's database. For BENCH_TRIALS (3) trials
 *     each, the time from a condition becoming true (the SQL that makes it true commits) to its
 *     incident row existing:
 *     - `webhook_open_breakers` (for_seconds 0): an endpoint of a fresh org gets an open breaker;
 *     - `calls_waiting_without_agents` (for_seconds 60): a fresh org gets a queued call and no agent.
 *     Expected: for_seconds + at most one interval (+ the evaluation).
 *
 * Settings (env): BENCH_SCALES, BENCH_TICKS, BENCH_WARMUP_TICKS, BENCH_IDLE_MS, BENCH_ATTEMPTS,
 * BENCH_UPLOADING_ORGS, BENCH_TRIALS (0 skips (b)), BENCH_TIME_LIMIT_MS (1,800,000).
 */
import type { INestApplicationContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { IncidentDetector } from '../../src/incidents/detection/incident-detector.service';
import { ProcessSampler } from '../../src/incidents/signals/process-sampler';
import globalSetup from '../support/global-setup';
import globalTeardown from '../support/global-teardown';
import { readClusterState, sql } from '../support/test-cluster';
import type { TestDatabase } from '../support/test-cluster';
import { createTestDatabase, createTestWorker } from '../support/test-app';
import { envNumber, fmt, machineInfo, mean, postgresCpuMs, selfCpuMs, sleep, stats } from './bench-harness';

const TICKS = envNumber('BENCH_TICKS', 10);
const WARMUP_TICKS = envNumber('BENCH_WARMUP_TICKS', 3, true);
const IDLE_MS = envNumber('BENCH_IDLE_MS', 5000);
const ATTEMPTS = envNumber('BENCH_ATTEMPTS', 20);
const UPLOADING = envNumber('BENCH_UPLOADING_ORGS', 30);
const TRIALS = envNumber('BENCH_TRIALS', 3, true);
const TIME_LIMIT_MS = envNumber('BENCH_TIME_LIMIT_MS', 1_800_000);
const SCALES = (process.env.BENCH_SCALES ?? '1x1,100x10,1000x10').split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`BENCH_SCALES: "${s}" is not <orgs>x<processes>`);
  return { orgs: Number(m[1]), processes: Number(m[2]) };
});

// Statements counted while a tick runs (pg-boss's own, which name its schema, left out).
let counting = false;
let statements = 0;
const originalQuery = Client.prototype.query;
Client.prototype.query = function (this: Client, ...args: unknown[]) {
  if (counting) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
    if (!text.includes('pgboss')) statements++;
  }
  return (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof Client.prototype.query;

interface FakeProcess {
  id: string;
  role: 'api' | 'worker';
  host: string;
}

/** The orgs and their feature data of one scale (see the header). */
async function seedOrgs(url: string, orgs: number): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    url,
    `INSERT INTO orgs (name, plan) SELECT 'bench org ' || g, 'pro' FROM generate_series(1, $1) g RETURNING id`,
    [orgs],
  );
  const ids = rows.map((r) => r.id);
  await sql(
    url,
    `INSERT INTO webhook_endpoints (org_id, url, event_types, secret_ciphertext, breaker_state, breaker_opened_at)
     SELECT o, 'https://receiver.example/hook', '{payroll.run.completed}', 'bench',
            CASE WHEN i % 100 = 0 THEN 'open' ELSE 'closed' END, CASE WHEN i % 100 = 0 THEN now() END
     FROM unnest($1::uuid[]) WITH ORDINALITY AS x(o, i)`,
    [ids],
  );
  await sql(
    url,
    `WITH d AS (
       INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload, status, attempts)
       SELECT e.org_id, e.id, gen_random_uuid(), 'payroll.run.completed', '{}', 'succeeded', 1
       FROM webhook_endpoints e, generate_series(1, $1) g RETURNING id, org_id)
     INSERT INTO webhook_delivery_log (org_id, delivery_id, attempt, at, status_code, latency_ms)
     SELECT org_id, id, 1, now() - random() * interval '14 minutes',
            CASE WHEN random() < 0.2 THEN 500 ELSE 200 END, 20 FROM d`,
    [ATTEMPTS],
  );
  await sql(
    url,
    `INSERT INTO calls (org_id, from_number, status)
     SELECT o, '+15550100', 'queued' FROM unnest($1::uuid[]) WITH ORDINALITY AS x(o, i), generate_series(1, 2)
     WHERE i % 20 = 0`,
    [ids],
  );
  // Failed runs only: a queued one would be dispatched by the app's worker in the middle of a tick.
  await sql(
    url,
    `INSERT INTO payroll_runs (org_id, pay_period_start, pay_period_end, status, queued_at, finished_at)
     SELECT o, date '2026-11-01', date '2026-11-15', 'failed', now() - interval '20 minutes', now() - interval '10 minutes'
     FROM unnest($1::uuid[]) WITH ORDINALITY AS x(o, i) WHERE i % 50 = 0`,
    [ids],
  );
  return ids;
}

/** One sample set of each simulated process at `atSql` (an SQL timestamp expression). */
async function writeSamples(c: Client, fakes: FakeProcess[], orgIds: string[], atSql: string): Promise<void> {
  const rows: unknown[] = [];
  for (const p of fakes) {
    const base = { process_id: p.id, role: p.role, host: p.host };
    rows.push(
      { ...base, signal: 'memory_rss_percent', scope: 'process', resource: p.id, value: 20 + Math.random() * 10 },
      { ...base, signal: 'event_loop_lag_ms', scope: 'process', resource: p.id, value: 5 + Math.random() * 10 },
      { ...base, signal: 'db_latency_ms', scope: 'process', resource: p.id, value: 1 + Math.random() },
      { ...base, signal: 'db_pool_waiting', scope: 'process', resource: p.id, value: 0 },
      { ...base, signal: 'disk_used_percent', scope: 'host', resource: p.host, value: 40 },
    );
    if (p.role !== 'api') continue;
    rows.push(
      { ...base, signal: 'count.http_responses', scope: 'cluster', resource: '', value: 1500 },
      { ...base, signal: 'count.http_5xx', scope: 'cluster', resource: '', value: 1 },
    );
    for (let k = 0; k < Math.min(UPLOADING, orgIds.length); k++) {
      const org = orgIds[Math.floor(Math.random() * orgIds.length)];
      rows.push(
        { ...base, signal: 'count.ticket_uploads', scope: 'org', resource: org, value: 10 },
        { ...base, signal: 'count.ticket_uploads_rejected', scope: 'org', resource: org, value: 1 },
      );
    }
  }
  if (!rows.length) return;
  await c.query(
    `INSERT INTO health_samples (measured_at, signal, scope, resource, process_id, role, host, value)
     SELECT ${atSql}, x.signal, x.scope, x.resource, x.process_id, x.role, x.host, x.value
     FROM jsonb_to_recordset($1::jsonb) AS x(signal text, scope text, resource text, process_id uuid, role text,
                                             host text, value float8)`,
    [JSON.stringify(rows)],
  );
}

async function heartbeat(c: Client, fakes: FakeProcess[]): Promise<void> {
  if (!fakes.length) return;
  await c.query(
    `INSERT INTO worker_heartbeats (id, pid, role, host, version, started_at, last_seen_at)
     SELECT x.id, 1, x.role, x.host, 'bench', now(), now()
     FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, role text, host text)
     ON CONFLICT (id) DO UPDATE SET last_seen_at = now()`,
    [JSON.stringify(fakes)],
  );
}

function fakeProcesses(n: number): FakeProcess[] {
  return Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    role: i % 3 === 2 ? ('worker' as const) : ('api' as const),
    host: `bench-host-${i % 3}`,
  }));
}

interface TickFigures {
  scale: string;
  wallMs: number[];
  appCpuMs: number[];
  pgCpuMs: number[];
  statements: number[];
  readings: number;
  openIncidents: number;
  samples: number;
}

async function measureScale(orgs: number, processes: number, postmaster: number | undefined): Promise<TickFigures> {
  const scale = `${orgs}×${processes}`;
  const db = await createTestDatabase();
  let app: INestApplicationContext | undefined;
  const c = new Client({ connectionString: db.superuser });
  await c.connect();
  try {
    const orgIds = await seedOrgs(db.superuser, orgs);
    const fakes = fakeProcesses(processes - 1);
    await heartbeat(c, fakes);
    for (let s = 60; s >= 1; s--) await writeSamples(c, fakes, orgIds, `now() - make_interval(secs => ${s * 15})`);
    await c.query('VACUUM ANALYZE');
    app = await createTestWorker({ db, env: { HEALTH_SAMPLE_SECONDS: '3600', LOG_LEVEL: 'error' } });
    const sampler = app.get(ProcessSampler);
    const detector = app.get(IncidentDetector);
    const tick = async () => {
      await sampler.sample();
      return detector.evaluate();
    };
    const prepare = async () => {
      await heartbeat(c, fakes);
      await writeSamples(c, fakes, orgIds, 'now()');
    };
    for (let i = 0; i < WARMUP_TICKS; i++) {
      await prepare();
      await tick();
    }
    // The idle background of this process and of PostgreSQL, per ms.
    const idle0 = { app: selfCpuMs(), pg: postgresCpuMs(postmaster), at: Date.now() };
    await sleep(IDLE_MS);
    const idleMs = Date.now() - idle0.at;
    const idleApp = (selfCpuMs() - idle0.app) / idleMs;
    const idlePg = (postgresCpuMs(postmaster) - idle0.pg) / idleMs;
    const fig: TickFigures = {
      scale,
      wallMs: [],
      appCpuMs: [],
      pgCpuMs: [],
      statements: [],
      readings: 0,
      openIncidents: 0,
      samples: 0,
    };
    for (let i = 0; i < TICKS; i++) {
      await prepare();
      await sleep(200);
      const t0 = process.hrtime.bigint();
      const cpu0 = selfCpuMs();
      const pg0 = postgresCpuMs(postmaster);
      statements = 0;
      counting = true;
      const summary = await tick();
      counting = false;
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      fig.wallMs.push(wall);
      fig.appCpuMs.push(Math.max(0, selfCpuMs() - cpu0 - idleApp * wall));
      fig.pgCpuMs.push(Math.max(0, postgresCpuMs(postmaster) - pg0 - idlePg * wall));
      fig.statements.push(statements);
      fig.readings = summary.readings;
    }
    const [open] = await sql<{ n: number }>(
      db.superuser,
      `SELECT count(*)::int AS n FROM incidents WHERE status NOT IN ('resolved', 'closed', 'cancelled')`,
    );
    const [samples] = await sql<{ n: number }>(db.superuser, `SELECT count(*)::int AS n FROM health_samples`);
    fig.openIncidents = open.n;
    fig.samples = samples.n;
    return fig;
  } finally {
    await app?.close();
    await c.end();
    await db.drop();
  }
}

/** (b): condition true → incident row, with the app's own cron at the default interval. */
async function detectionLatency(): Promise<{ signal: string; forSeconds: number; ms: number[] }[]> {
  const db: TestDatabase = await createTestDatabase();
  const c = new Client({ connectionString: db.superuser });
  await c.connect();
  let app: INestApplicationContext | undefined;
  try {
    const biggest = SCALES[SCALES.length - 1];
    const orgIds = await seedOrgs(db.superuser, biggest.orgs);
    const fakes = fakeProcesses(biggest.processes - 1);
    await heartbeat(c, fakes);
    await c.query('VACUUM ANALYZE');
    app = await createTestWorker({ db, env: { LOG_LEVEL: 'error' } });
    const keepAlive = setInterval(() => {
      void heartbeat(c, fakes).then(() => writeSamples(c, fakes, orgIds, 'now()'));
    }, 5000);
    try {
      // Let the first evaluations open what the seed implies.
      await sleep(35_000);
      const results: { signal: string; forSeconds: number; ms: number[] }[] = [];
      const trial = async (signal: string, forSeconds: number, induce: (org: string) => Promise<void>) => {
        const ms: number[] = [];
        for (let t = 0; t < TRIALS; t++) {
          const [org] = await sql<{ id: string }>(
            db.superuser,
            `INSERT INTO orgs (name, plan) VALUES ('latency ' || $1, 'pro') RETURNING id`,
            [`${signal} ${t}`],
          );
          // Start at a random point of the interval, as a real condition would.
          await sleep(Math.random() * 15_000);
          const t0 = Date.now();
          await induce(org.id);
          for (;;) {
            const rows = await sql(
              db.superuser,
              `SELECT 1 FROM incidents WHERE signal = $1 AND resource = $2 LIMIT 1`,
              [signal, org.id],
            );
            if (rows.length) break;
            if (Date.now() - t0 > (forSeconds + 120) * 1000) throw new Error(`${signal}: no incident after 120 s`);
            await sleep(100);
          }
          ms.push(Date.now() - t0);
          process.stdout.write(`  ${signal}: ${fmt((Date.now() - t0) / 1000, 1)} s\n`);
        }
        results.push({ signal, forSeconds, ms });
      };
      await trial('webhook_open_breakers', 0, async (org) => {
        await sql(
          db.superuser,
          `INSERT INTO webhook_endpoints (org_id, url, event_types, secret_ciphertext, breaker_state, breaker_opened_at)
           VALUES ($1, 'https://receiver.example/hook', '{payroll.run.completed}', 'bench', 'open', now())`,
          [org],
        );
      });
      await trial('calls_waiting_without_agents', 60, async (org) => {
        await sql(db.superuser, `INSERT INTO calls (org_id, from_number, status) VALUES ($1, '+15550100', 'queued')`, [
          org,
        ]);
      });
      return results;
    } finally {
      clearInterval(keepAlive);
    }
  } finally {
    await app?.close();
    await c.end();
    await db.drop();
  }
}

const ms = (v: number) => fmt(v, 1);

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench:incidents: time limit (${TIME_LIMIT_MS / 1000} s) reached`);
    process.exit(1);
  }, TIME_LIMIT_MS);
  watchdog.unref();
  await globalSetup();
  try {
    const postmaster = readClusterState().embeddedPid;
    console.log(`# bench:incidents — ${new Date().toISOString()} — ${machineInfo()}\n`);
    console.log(`## (a) One sampling + evaluation tick (${TICKS} ticks per scale, after ${WARMUP_TICKS} warm-up)\n`);
    const figures: TickFigures[] = [];
    for (const s of SCALES) {
      figures.push(await measureScale(s.orgs, s.processes, postmaster));
      const f = figures[figures.length - 1];
      console.log(`  measured ${f.scale}: median ${ms(stats(f.wallMs)!.p50)} ms wall`);
    }
    const ref = figures[0];
    console.log(
      '\n| orgs×processes | readings | samples in table | open incidents | wall ms (median, p90) | app CPU ms (mean) | PostgreSQL CPU ms (mean) | statements (median) | CPU ÷ reference |',
    );
    console.log('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
    for (const f of figures) {
      const w = stats(f.wallMs)!;
      const cpu = mean(f.appCpuMs) + mean(f.pgCpuMs);
      const refCpu = mean(ref.appCpuMs) + mean(ref.pgCpuMs);
      console.log(
        `| ${f.scale} | ${f.readings} | ${fmt(f.samples)} | ${f.openIncidents} | ${ms(w.p50)}, ${ms(w.p90)} | ${ms(
          mean(f.appCpuMs),
        )} | ${ms(mean(f.pgCpuMs))} | ${stats(f.statements)!.p50} | ${fmt(cpu / refCpu, 2)} |`,
      );
    }
    if (TRIALS > 0) {
      console.log(`\n## (b) Detection latency, default interval (15 s), ${TRIALS} trials each\n`);
      const lat = await detectionLatency();
      console.log('\n| signal | for_seconds | latencies (s) | max (s) | bound: for + interval (s) |');
      console.log('|---|--:|---|--:|--:|');
      for (const l of lat) {
        console.log(
          `| ${l.signal} | ${l.forSeconds} | ${l.ms.map((v) => fmt(v / 1000, 1)).join(', ')} | ${fmt(
            Math.max(...l.ms) / 1000,
            1,
          )} | ${l.forSeconds + 15} |`,
        );
      }
    }
  } finally {
    await globalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`bench:incidents failed: ${err.stack ?? err.message}`);
    void globalTeardown().finally(() => process.exit(1));
  },
);
