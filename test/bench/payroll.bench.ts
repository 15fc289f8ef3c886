/**
 * Payroll benchmark: one run of 100,000 tickets over 500 drivers (pay types in rotation) for one
 * org, from enqueue (POST /api/payroll/run) to completion (polled GET /api/payroll/jobs/:id),
 * once per checkpoint size (PAYROLL_CHECKPOINT_EVERY, read at start: each size gets its own app
 * start on a fresh DATA_DIR). Run with `npm run bench:payroll`.
 *
 * - The app is `node dist/src/main.js all` with its own embedded PostgreSQL, LOG_LEVEL=warn.
 * - Seeding is plain SQL as the embedded superuser (row-level security does not apply to it),
 *   the INSERT … generate_series pattern of test/e2e/fixtures/payroll-seed.ts, then ANALYZE.
 * - Peak RSS of the app process (it is the worker in role `all`): /proc/<pid>/status VmRSS
 *   sampled every 200 ms during the run, and VmHWM (lifetime high-water mark) at the end.
 * - Physical reference, same database, right after the run: the same number of rows shaped like
 *   payroll_run_lines (a scratch table `CREATE TABLE … (LIKE payroll_run_lines INCLUDING
 *   DEFAULTS)`: same columns, types, NOT NULLs and defaults; no keys or indexes) inserted from here
 *   with `pg` as the owner role, multi-row INSERTs of the checkpoint size, one transaction per
 *   batch, 15 parameters per row like the app. Also with `INCLUDING ALL` (primary key, the
 *   unique (run_id, line_key, kind) and both indexes) to show what the indexes cost. Dropped after.
 * - Goals: run/raw ≥ 0.5 at each checkpoint (raw = the plain scratch table); peak RSS less than
 *   100 MB over the RSS before the run.
 *   The run must end completed / completed_with_flags with processed_tickets = the ticket count.
 *
 * Settings (env): BENCH_TICKETS (100000), BENCH_DRIVERS (500), BENCH_CHECKPOINTS ("10,1000"),
 * BENCH_POLL_MS (200), BENCH_RSS_SAMPLE_MS (200), BENCH_RUN_TIMEOUT_MS (240000: a run still going after
 * this long is cancelled and reported with its progress and projected duration),
 * BENCH_RAW_INDEXED (1; 0 = skip the indexed reference), BENCH_PORT (3930; +2 is HEALTH_PORT),
 * BENCH_PG_PORT (5930), BENCH_BOOT_TIMEOUT_MS (90000), BENCH_QUIET_WAIT_MS (30000: before each
 * run and reference wait up to this long for other processes to use < 0.3 CPU over 1 s).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { Client } from 'pg';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  busyStr,
  cpuStr,
  EmbeddedRole,
  embeddedUrl,
  envIntList,
  envNumber,
  fmt,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  postgresCpuMs,
  postmasterPid,
  processCpuMs,
  readDemoCredentials,
  runBench,
  selfCpuMs,
  sleep,
  spawnApp,
  Spawned,
  startCpuSample,
  statusMb,
  stopPostmaster,
  stopProcess,
  waitForQuiet,
  waitForReady,
} from './bench-harness';
import { recordFigures } from './summary';

const TICKETS = envNumber('BENCH_TICKETS', 100_000);
const DRIVERS = envNumber('BENCH_DRIVERS', 500);
const CHECKPOINTS = envIntList('BENCH_CHECKPOINTS', '10,1000', 1, 4000);
const POLL_MS = envNumber('BENCH_POLL_MS', 200);
const RSS_SAMPLE_MS = envNumber('BENCH_RSS_SAMPLE_MS', 200);
const METRICS_SAMPLE_MS = 1000;
const RUN_TIMEOUT_MS = envNumber('BENCH_RUN_TIMEOUT_MS', 240_000);
const RAW_INDEXED = envNumber('BENCH_RAW_INDEXED', 1, true) > 0;
const PORT = envNumber('BENCH_PORT', 3930);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envNumber('BENCH_PG_PORT', 5930);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 90_000);
const STOP_TIMEOUT_MS = 40_000;
const QUIET_WAIT_MS = envNumber('BENCH_QUIET_WAIT_MS', 30_000, true);
const GOAL_RATIO = 0.5;
const GOAL_RATIO_AT = 1000;
const GOAL_RSS_GROWTH_MB = 100;

const PERIOD = { start: '2026-11-02', end: '2026-11-15' };
const PAY_TYPES = ['hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load'];
const DONE = ['completed', 'completed_with_flags', 'failed', 'cancelled'];

interface RunDto {
  job_id: string;
  status: string;
  progress: { processed_tickets: number; total_tickets: number };
  attempts: number;
  last_error: string | null;
  flags: { blocking: number; warning: number };
  totals: { gross_cents: number; net_cents: number };
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

interface RawResult {
  variant: 'plain' | 'indexed';
  batch: number;
  rows: number;
  ms: number;
}

interface PhaseResult {
  checkpoint: number;
  seedMs: number;
  run: RunDto;
  /** Enqueue (POST sent) to the poll that saw the run finished. */
  wallMs: number;
  /** Enqueue to the first poll with processed_tickets = total_tickets (the ticket phase done). */
  ticketsDoneMs?: number;
  /** Enqueue to the first poll that saw the run running. */
  runningMs?: number;
  polls: number;
  /** Set when the run was still going when the budget (BENCH_RUN_TIMEOUT_MS) ran out. */
  timedOut?: { atMs: number; processed: number };
  rssBeforeMb: number;
  rssPeakMb: number;
  /** Peak RSS sampled while tickets were being processed, and after (finalize). */
  rssTicketPhaseMb: number;
  rssFinalizeMb?: number;
  /** From the app's /metrics (prom-client default metrics), the scrape with the highest RSS. */
  heapAtPeak?: HeapSample;
  hwmMb: number;
  cpuMs: { app: number; pg: number; bench: number };
  busyBefore?: number;
  busyDuring?: number;
  raw: RawResult[];
  profile?: Profile;
  rawBusyBefore?: number;
}

interface HeapSample {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

const resources = new BenchResources();

function http(method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, body?: unknown) {
  return httpRequest({ port: PORT, method, path, headers, body });
}

/**
 * NODE_OPTIONS of the app: by default the worker's heap setting from docker/k8s/worker-deployment.yaml
 * (what ships); BENCH_APP_NODE_OPTIONS="" runs it with V8's own default, which lets the heap grow
 * into whatever memory the machine has.
 */
const APP_NODE_OPTIONS = process.env.BENCH_APP_NODE_OPTIONS ?? '--max-old-space-size=192';

function startApp(dataDir: string, checkpoint: number): Spawned {
  const env = appEnv(
    dataDir,
    PG_PORT,
    {
      PORT: String(PORT),
      HEALTH_PORT: String(HEALTH_PORT),
      PAYROLL_CHECKPOINT_EVERY: String(checkpoint),
      NODE_OPTIONS: APP_NODE_OPTIONS,
    },
    // The polling below must never meet the rate limiter.
    { unlimitedPlans: ['PRO', 'FREE'] },
  );
  return spawnApp(resources, `CalmOps app (checkpoint ${checkpoint})`, 'all', env);
}

/** The app's memory as prom-client reports it on /metrics (public, never rate-limited). */
async function scrapeHeap(): Promise<HeapSample | undefined> {
  const answer = await http('GET', '/metrics');
  if (answer?.status !== 200) return undefined;
  const value = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(answer.body);
    return m ? Number(m[1]) / 1048576 : NaN;
  };
  return {
    rssMb: value('process_resident_memory_bytes'),
    heapUsedMb: value('nodejs_heap_size_used_bytes'),
    heapTotalMb: value('nodejs_heap_size_total_bytes'),
    externalMb: value('nodejs_external_memory_bytes'),
  };
}

function connect(dataDir: string, role: EmbeddedRole): Promise<Client> {
  return resources.connect(embeddedUrl(dataDir, PG_PORT, role), 'calmops:bench-payroll');
}

/** Drivers (pay types in rotation) and tickets spread over PERIOD, as in the e2e payroll seed. */
async function seed(dataDir: string, orgId: string): Promise<number> {
  const started = performance.now();
  const su = await connect(dataDir, 'superuser');
  try {
    await su.query(
      `INSERT INTO payroll_drivers (org_id, name, pay_type, rate, overtime_exempt)
       SELECT $1, 'Driver ' || i, ($2::text[])[1 + (i % 6)],
              CASE ($2::text[])[1 + (i % 6)] WHEN 'percentage' THEN 27.5 WHEN 'salary' THEN 1400 ELSE 18.25 + (i % 7) * 1.3333 END,
              i % 5 = 0
       FROM generate_series(1, $3) i`,
      [orgId, PAY_TYPES, DRIVERS],
    );
    // The e2e seed picks driver (t % drivers) in name order with a LATERAL … OFFSET; an array of
    // the ids in name order gives the same assignment without a sort per ticket.
    await su.query(
      `WITH d AS (SELECT array_agg(id ORDER BY name) AS ids FROM payroll_drivers WHERE org_id = $1)
       INSERT INTO payroll_tickets (org_id, ticket_number, driver_id, work_date, hours, tons, yards, loads, revenue_cents)
       SELECT $1, 'T-' || t, d.ids[1 + (t % $4)], $3::date + (t % 14), 6 + (t % 9) * 0.875, 10 + (t % 13) * 1.125,
              5 + (t % 4) * 2.5, 1 + (t % 3), 45000 + (t % 17) * 1234
       FROM generate_series(1, $2) t, d`,
      [orgId, TICKETS, PERIOD.start, DRIVERS],
    );
    await su.query('ANALYZE payroll_drivers, payroll_tickets');
  } finally {
    await resources.release(su);
  }
  return performance.now() - started;
}

/**
 * The physical reference: TICKETS rows shaped like payroll_run_lines, multi-row INSERTs of
 * `batch` rows, one transaction per batch, into a scratch table created here and dropped after.
 */
async function rawInsert(dataDir: string, orgId: string, batch: number, variant: RawResult['variant']) {
  const owner = await connect(dataDir, 'owner');
  const table = `bench_scratch_run_lines_${variant}`;
  try {
    await owner.query(`DROP TABLE IF EXISTS ${table}`);
    await owner.query(
      `CREATE TABLE ${table} (LIKE payroll_run_lines ${variant === 'indexed' ? 'INCLUDING ALL' : 'INCLUDING DEFAULTS'})`,
    );
    const runId = '00000000-0000-4000-8000-000000000001';
    const driverIds = Array.from(
      { length: DRIVERS },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const flags = JSON.stringify([{ code: 'EXCESSIVE_HOURS', severity: 'warning' }]);
    // Random ids like the tickets' gen_random_uuid(), so index inserts land all over the tree.
    const ticketIds = Array.from({ length: TICKETS + 1 }, () => randomUUID());
    const row = (t: number) => {
      const ticketId = ticketIds[t];
      const day = String(2 + (t % 14)).padStart(2, '0');
      return [
        orgId,
        runId,
        driverIds[t % DRIVERS],
        ticketId,
        'ticket',
        ticketId,
        `T-${t}`,
        `2026-11-${day}`,
        (6 + (t % 9) * 0.875).toFixed(3),
        'hours',
        (6 + (t % 9) * 0.875).toFixed(3),
        '18.250000',
        String(10950 + (t % 9) * 1597),
        false,
        flags,
      ];
    };
    const tuples = (n: number) =>
      Array.from({ length: n }, (_, i) => `(${Array.from({ length: 15 }, (_, k) => `$${i * 15 + k + 1}`).join(', ')})`);
    const sqlFor = new Map<number, string>();
    const insertBatches = async (from: number, to: number) => {
      for (let first = from; first <= to; first += batch) {
        const n = Math.min(batch, to - first + 1);
        let text = sqlFor.get(n);
        if (!text) {
          text = `INSERT INTO ${table} (org_id, run_id, driver_id, line_key, kind, ticket_id, ticket_number, work_date,
             quantity, unit, ticket_hours, rate, amount_cents, held, flags) VALUES ${tuples(n).join(', ')}`;
          sqlFor.set(n, text);
        }
        const values: unknown[] = [];
        for (let t = first; t < first + n; t++) values.push(...row(t));
        await owner.query('BEGIN');
        await owner.query(text, values);
        await owner.query('COMMIT');
      }
    };
    // Warm-up (not timed): the connection, the statement text and the table's first pages.
    await insertBatches(1, Math.min(TICKETS, Math.max(batch, 100)));
    await owner.query(`TRUNCATE ${table}`);
    const started = performance.now();
    await insertBatches(1, TICKETS);
    const ms = performance.now() - started;
    const [{ n }] = (await owner.query(`SELECT count(*)::int AS n FROM ${table}`)).rows as { n: number }[];
    if (n !== TICKETS) throw new Error(`raw insert: ${n} rows in ${table}, expected ${TICKETS}`);
    return { variant, batch, rows: n, ms };
  } finally {
    await owner.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await resources.release(owner);
  }
}

interface Profile {
  /** Mean ms of the app's ticket page query (LIMIT = checkpoint) from mid-period. */
  pageMs: number;
  /** Mean ms of one finalize step's set-based flags UPDATE (the re-flagged lines of 50 drivers). */
  flagBatchMs?: number;
  /** Lines that UPDATE rewrote. */
  flagBatchLines: number;
  /** Ticket lines of the run carrying an aggregate flag: finalize rewrote each (in batches of 50 drivers). */
  reflaggedLines: number;
  /** Finalize steps (batches of 50 drivers). */
  steps: number;
}

/**
 * Where the run's time goes, measured from here on the runtime role inside the org (row-level
 * security as in the app), after the run, with nothing changed (rolled back): the app's ticket
 * page query and one finalize step's flags UPDATE, as the app issues them.
 */
async function profileQueries(dataDir: string, orgId: string, runId: string, checkpoint: number): Promise<Profile> {
  const c = await connect(dataDir, 'runtime');
  try {
    await c.query('BEGIN');
    await c.query(`select set_config('app.current_org', $1, true)`, [orgId]);
    const [mid] = (
      await c.query(
        `SELECT work_date::text AS d, id FROM payroll_tickets WHERE work_date BETWEEN $1 AND $2
         ORDER BY payroll_tickets.work_date, payroll_tickets.id OFFSET $3 LIMIT 1`,
        [PERIOD.start, PERIOD.end, Math.floor(TICKETS / 2)],
      )
    ).rows as { d: string; id: string }[];
    // src/payroll/runs/run-executor.service.ts ticketPage()
    const page = `SELECT t.id, t.ticket_number, t.driver_id, t.work_date::text AS work_date, t.hours::text AS hours,
         t.tons::text AS tons, t.yards::text AS yards, t.loads::text AS loads, t.revenue_cents
       FROM payroll_tickets t
       WHERE t.org_id = $1 AND t.work_date BETWEEN $2 AND $3
         AND ($4::date IS NULL OR (t.work_date, t.id) > ($4::date, $5::uuid))
       ORDER BY t.work_date, t.id LIMIT ${checkpoint}`;
    const params = [orgId, PERIOD.start, PERIOD.end, mid.d, mid.id];
    const timeIt = async (sql: string, times: number, args: unknown[]) => {
      await c.query(sql, args);
      const started = performance.now();
      for (let i = 0; i < times; i++) await c.query(sql, args);
      return (performance.now() - started) / times;
    };
    const pageMs = await timeIt(page, 5, params);
    const [{ n, drivers }] = (
      await c.query(
        `SELECT count(*) FILTER (WHERE flags @> '[{"code":"EXCESSIVE_HOURS"}]' OR flags @> '[{"code":"QUANTITY_OUTLIER"}]')::int AS n,
                count(DISTINCT driver_id)::int AS drivers
         FROM payroll_run_lines WHERE run_id = $1 AND kind = 'ticket'`,
        [runId],
      )
    ).rows as { n: number; drivers: number }[];
    // src/payroll/runs/run-finalizer.ts writeTicketFlags(): the re-flagged lines of one step of 50 drivers.
    const batch = (
      await c.query(
        `SELECT line_key, flags::text AS flags FROM payroll_run_lines
         WHERE run_id = $1 AND kind = 'ticket' AND driver_id IN (
           SELECT DISTINCT driver_id FROM payroll_run_lines WHERE run_id = $1 ORDER BY driver_id LIMIT 50)
           AND (flags @> '[{"code":"EXCESSIVE_HOURS"}]' OR flags @> '[{"code":"QUANTITY_OUTLIER"}]')`,
        [runId],
      )
    ).rows as { line_key: string; flags: string }[];
    const flagBatchMs = batch.length
      ? await timeIt(
          `UPDATE payroll_run_lines l SET flags = v.flags::jsonb
           FROM (SELECT unnest($2::text[]) AS key, unnest($3::text[]) AS flags) v
           WHERE l.run_id = $1 AND l.kind = 'ticket' AND l.line_key = v.key`,
          3,
          [runId, batch.map((b) => b.line_key), batch.map((b) => b.flags)],
        )
      : undefined;
    return { pageMs, flagBatchMs, flagBatchLines: batch.length, reflaggedLines: n, steps: Math.ceil(drivers / 50) };
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    await resources.release(c);
  }
}

async function phase(tmpRoot: string, checkpoint: number): Promise<PhaseResult> {
  await assertPortsFree([PORT, HEALTH_PORT, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  const dataDir = resources.dataDir(tmpRoot, `checkpoint-${checkpoint}`);
  const app = startApp(dataDir, checkpoint);
  const creds = await waitForReady(app, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dataDir));
  const appPid = app.child.pid!;
  const pgPid = postmasterPid(dataDir);
  const seedMs = await seed(dataDir, creds.org_id);
  console.log(`checkpoint ${checkpoint}: seeded ${DRIVERS} drivers and ${TICKETS} tickets in ${fmt(seedMs)} ms`);
  const headers = { 'x-api-key': creds.api_key };

  const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
  const rssBeforeMb = statusMb(appPid, 'VmRSS');
  let rssPeakMb = rssBeforeMb;
  let rssTicketPhaseMb = rssBeforeMb;
  let rssFinalizeMb: number | undefined;
  let ticketsDoneMs: number | undefined;
  const sampler = setInterval(() => {
    const rss = statusMb(appPid, 'VmRSS');
    rssPeakMb = Math.max(rssPeakMb, rss);
    if (ticketsDoneMs === undefined) rssTicketPhaseMb = Math.max(rssTicketPhaseMb, rss);
    else rssFinalizeMb = Math.max(rssFinalizeMb ?? 0, rss);
  }, RSS_SAMPLE_MS);
  let heapAtPeak: HeapSample | undefined;
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      const sample = await scrapeHeap();
      if (sample && (!heapAtPeak || sample.rssMb > heapAtPeak.rssMb)) heapAtPeak = sample;
      await sleep(METRICS_SAMPLE_MS);
    }
  })();
  const stopCpu = startCpuSample({
    app: () => processCpuMs(appPid),
    pg: () => postgresCpuMs(pgPid),
    bench: selfCpuMs,
  });
  const t0 = performance.now();
  let run: RunDto | undefined;
  let runningMs: number | undefined;
  let polls = 0;
  let timedOut: PhaseResult['timedOut'];
  try {
    const posted = await http('POST', '/api/payroll/run', headers, {
      pay_period_start: PERIOD.start,
      pay_period_end: PERIOD.end,
    });
    if (posted?.status !== 202) throw new Error(`POST /api/payroll/run: ${posted?.status} ${posted?.body}`);
    const jobId = (JSON.parse(posted.body) as { job_id: string }).job_id;
    let lastLog = 0;
    for (;;) {
      if (app.exitCode !== undefined) throw new Error(`app exited (${app.exitCode}) during the run. ${app.output()}`);
      await sleep(POLL_MS);
      const answer = await http('GET', `/api/payroll/jobs/${jobId}`, headers);
      polls++;
      if (answer?.status !== 200) continue;
      const dto = JSON.parse(answer.body) as RunDto;
      const now = performance.now() - t0;
      if (dto.status === 'running') runningMs ??= now;
      const { processed_tickets: done, total_tickets: total } = dto.progress;
      if (total > 0 && done >= total) ticketsDoneMs ??= now;
      if (DONE.includes(dto.status)) {
        run = dto;
        break;
      }
      if (now - lastLog >= 15_000) {
        lastLog = now;
        console.log(`  ${secs(now)} s: ${dto.status}, ${fmt(done)} / ${fmt(total)} tickets`);
      }
      if (now > RUN_TIMEOUT_MS) {
        // Out of budget: remember how far it got, then cancel it (honoured at its next checkpoint).
        run = dto;
        timedOut = { atMs: now, processed: done };
        console.log(`  budget of ${secs(RUN_TIMEOUT_MS)} s spent at ${fmt(done)} tickets: cancelling the run`);
        const cancel = await http('POST', '/api/admin/payroll/control', headers, { action: 'cancel', job_id: jobId });
        if (cancel?.status !== 200) throw new Error(`cancel: ${cancel?.status} ${cancel?.body}`);
        for (let i = 0; i < 600; i++) {
          await sleep(100);
          const after = await http('GET', `/api/payroll/jobs/${jobId}`, headers);
          const status = after?.status === 200 ? (JSON.parse(after.body) as RunDto).status : undefined;
          if (status && DONE.includes(status)) {
            run = { ...dto, status: `${status} (after the budget)` };
            break;
          }
        }
        break;
      }
    }
  } finally {
    clearInterval(sampler);
    scraping = false;
    await scraper;
  }
  const wallMs = performance.now() - t0;
  if (!run) throw new Error('unreachable: the poll loop ended without a run');
  const { busyCpus: busyDuring, ms: cpuMs } = stopCpu();
  rssPeakMb = Math.max(rssPeakMb, statusMb(appPid, 'VmRSS'));
  const hwmMb = statusMb(appPid, 'VmHWM');
  console.log(
    `checkpoint ${checkpoint}: ${run.status} after ${fmt(wallMs)} ms, processed ${run.progress.processed_tickets}/` +
      `${run.progress.total_tickets}, peak RSS ${fmt(rssPeakMb)} MB`,
  );

  const rawBusyBefore = await waitForQuiet(QUIET_WAIT_MS);
  const profile = await profileQueries(dataDir, creds.org_id, run.job_id, checkpoint);
  const raw: RawResult[] = [];
  for (const variant of RAW_INDEXED ? (['plain', 'indexed'] as const) : (['plain'] as const)) {
    const r = await rawInsert(dataDir, creds.org_id, checkpoint, variant);
    raw.push(r);
    console.log(`raw ${variant}, batches of ${checkpoint}: ${fmt(r.ms)} ms (${fmt((r.rows * 1000) / r.ms)} rows/s)`);
  }

  const code = await stopProcess(app, STOP_TIMEOUT_MS);
  if (code !== 0) throw new Error(`app exit code after SIGTERM: ${code} (want 0). ${app.output()}`);
  await stopPostmaster(dataDir);
  rmSync(dataDir, { recursive: true, force: true });
  resources.dataDirs.splice(resources.dataDirs.indexOf(dataDir), 1);
  return {
    checkpoint,
    seedMs,
    run,
    wallMs,
    ticketsDoneMs,
    runningMs,
    polls,
    timedOut,
    rssBeforeMb,
    rssPeakMb,
    rssTicketPhaseMb,
    rssFinalizeMb,
    heapAtPeak,
    hwmMb,
    cpuMs,
    busyBefore,
    busyDuring,
    raw,
    profile,
    rawBusyBefore,
  };
}

const secs = (ms: number | undefined) => (ms === undefined ? '—' : (ms / 1000).toFixed(1));

interface Rates {
  /** Enqueue → done, tickets/s; undefined when the run did not finish in the budget. */
  run?: number;
  /** Tickets/s of the ticket phase alone (first poll running → processed = total, or → budget). */
  ticketPhase?: number;
  ticketPhaseMs?: number;
  finalizeMs?: number;
}

function rates(r: PhaseResult): Rates {
  const from = r.runningMs ?? 0;
  if (r.timedOut) {
    const ms = r.timedOut.atMs - from;
    return { ticketPhase: ms > 0 ? (r.timedOut.processed * 1000) / ms : undefined, ticketPhaseMs: undefined };
  }
  const ticketPhaseMs = r.ticketsDoneMs === undefined ? undefined : r.ticketsDoneMs - from;
  return {
    run: (TICKETS * 1000) / r.wallMs,
    ticketPhaseMs,
    ticketPhase: ticketPhaseMs ? (TICKETS * 1000) / ticketPhaseMs : undefined,
    finalizeMs: r.ticketsDoneMs === undefined ? undefined : r.wallMs - r.ticketsDoneMs,
  };
}

function report(results: PhaseResult[]): boolean {
  let ok = true;
  console.log(`\n### Runs (${fmt(TICKETS)} tickets, ${DRIVERS} drivers, period ${PERIOD.start}..${PERIOD.end})\n`);
  console.log(
    '| Checkpoint | Status | Processed / total | Flags (blocking / warning) | Enqueue → done (s) | Tickets/s | ' +
      'Enqueue → running (s) | Ticket phase (s) | Ticket phase tickets/s | Finalize phase (s) | ' +
      'App CPU (s) | PostgreSQL CPU (s) | Busy CPUs before → during | Other processes during (CPUs) |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|');
  for (const r of results) {
    const busy = busyStr(r.busyBefore, r.busyDuring);
    const ours = (r.cpuMs.app + r.cpuMs.pg + r.cpuMs.bench) / r.wallMs;
    const others = r.busyDuring === undefined ? undefined : Math.max(0, r.busyDuring - ours);
    const processed = r.timedOut?.processed ?? r.run.progress.processed_tickets;
    const statusOk = ['completed', 'completed_with_flags'].includes(r.run.status) && processed === TICKETS;
    if (!statusOk) ok = false;
    const x = rates(r);
    const done = r.timedOut ? `not done after ${secs(r.timedOut.atMs)}` : secs(r.wallMs);
    const ticketPhase = r.timedOut
      ? `${secs(r.timedOut.atMs - (r.runningMs ?? 0))} for ${fmt(processed)} (projected ${secs(
          x.ticketPhase ? (TICKETS * 1000) / x.ticketPhase : undefined,
        )})`
      : secs(x.ticketPhaseMs);
    console.log(
      `| ${fmt(r.checkpoint)} | ${r.run.status}${statusOk ? '' : ' (NOT OK)'} | ${fmt(processed)} / ` +
        `${fmt(r.run.progress.total_tickets)} | ${fmt(r.run.flags.blocking)} / ${fmt(r.run.flags.warning)} | ` +
        `${done} | ${x.run === undefined ? '—' : fmt(x.run)} | ${secs(r.runningMs)} | ${ticketPhase} | ` +
        `${x.ticketPhase === undefined ? '—' : fmt(x.ticketPhase)} | ${secs(x.finalizeMs)} | ` +
        `${secs(r.cpuMs.app)} | ${secs(r.cpuMs.pg)} | ${busy} | ${cpuStr(others)} |`,
    );
  }
  console.log(
    `\nPhases are from polls every ${POLL_MS} ms: "running" = first poll that saw it running; the ticket phase ends at ` +
      'the first poll with processed = total; finalize (per-driver overtime, aggregate flags, statements) is the rest. ' +
      `A run still going after BENCH_RUN_TIMEOUT_MS (${secs(RUN_TIMEOUT_MS)} s) is cancelled; its ticket-phase rate ` +
      'is what it processed so far, and the projection is the full ticket phase at that rate (finalize not included).',
  );

  console.log(
    `\n### Physical reference: ${fmt(TICKETS)} rows shaped like payroll_run_lines, multi-row INSERT, one transaction per batch\n`,
  );
  console.log('| Batch rows | Scratch table | Time (s) | Rows/s | Run tickets/s ÷ rows/s | Busy CPUs before |');
  console.log('|---:|---|---:|---:|---:|---:|');
  for (const r of results) {
    const runRate = rates(r).run;
    for (const x of r.raw) {
      const rate = (x.rows * 1000) / x.ms;
      const label = x.variant === 'plain' ? 'no keys, no indexes' : 'PK + unique + 2 indexes (INCLUDING ALL)';
      console.log(
        `| ${fmt(x.batch)} | ${label} | ${secs(x.ms)} | ${fmt(rate)} | ` +
          `${runRate === undefined ? '— (run not done)' : (runRate / rate).toFixed(2)} | ${cpuStr(r.rawBusyBefore)} |`,
      );
    }
  }

  console.log('\n### Where the time goes (measured from the bench after each run, same database, rolled back)\n');
  console.log(
    '| Checkpoint | Ticket page query (ms) | × pages (s) | Finalize flags UPDATE of one step (ms, lines) | ' +
      'Ticket lines re-flagged by finalize | × steps (s) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const p = r.profile;
    if (!p) continue;
    const pages = Math.ceil(TICKETS / r.checkpoint);
    console.log(
      `| ${fmt(r.checkpoint)} | ${fmt(p.pageMs, 1)} | ${secs(pages * p.pageMs)} | ` +
        `${p.flagBatchMs === undefined ? '—' : `${fmt(p.flagBatchMs, 1)} (${fmt(p.flagBatchLines)})`} | ` +
        `${fmt(p.reflaggedLines)} | ${p.flagBatchMs === undefined ? '—' : secs(p.steps * p.flagBatchMs)} |`,
    );
  }
  console.log(
    '\nEvery ticket line that an aggregate rule (EXCESSIVE_HOURS, QUANTITY_OUTLIER) flags is written twice: inserted ' +
      'in the ticket phase, rewritten in finalize. Re-flagged lines are counted only for runs that reached finalize.',
  );

  console.log('\n### Goals\n');
  console.log(
    '| Checkpoint | Run tickets/s | Raw rows/s (same batch) | Ratio run/raw | Ticket phase alone ÷ raw | ' +
      'Peak RSS sampled (MB) | Peak in ticket phase / finalize (MB) | VmHWM (MB) | RSS before run (MB) | ' +
      'At the highest /metrics scrape: RSS / heap used / heap total / external (MB) |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    const h = r.heapAtPeak;
    const heap = h ? `${fmt(h.rssMb)} / ${fmt(h.heapUsedMb)} / ${fmt(h.heapTotalMb)} / ${fmt(h.externalMb)}` : '—';
    const plain = r.raw.find((x) => x.variant === 'plain')!;
    const x = rates(r);
    const rawRate = (plain.rows * 1000) / plain.ms;
    console.log(
      `| ${fmt(r.checkpoint)} | ${x.run === undefined ? '— (not done)' : fmt(x.run)} | ${fmt(rawRate)} | ` +
        `${x.run === undefined ? '—' : (x.run / rawRate).toFixed(2)} | ` +
        `${x.ticketPhase === undefined ? '—' : (x.ticketPhase / rawRate).toFixed(2)} | ` +
        `${fmt(r.rssPeakMb)} | ${fmt(r.rssTicketPhaseMb)} / ${r.rssFinalizeMb === undefined ? '—' : fmt(r.rssFinalizeMb)} | ` +
        `${fmt(r.hwmMb)} | ${fmt(r.rssBeforeMb)} | ${heap} |`,
    );
  }
  const at = results.find((r) => r.checkpoint === GOAL_RATIO_AT);
  if (at) {
    const plain = at.raw.find((x) => x.variant === 'plain')!;
    const runRate = rates(at).run;
    const ratio = runRate === undefined ? undefined : runRate / ((plain.rows * 1000) / plain.ms);
    console.log(
      `\nRatio run/raw at checkpoint ${fmt(GOAL_RATIO_AT)}: **${ratio === undefined ? 'n/a (run not done)' : ratio.toFixed(2)}** ` +
        `(goal ≥ ${GOAL_RATIO}: ${ratio !== undefined && ratio >= GOAL_RATIO ? 'met' : 'MISSED'})`,
    );
  }
  const growth = Math.max(...results.map((r) => Math.max(r.rssPeakMb, r.hwmMb) - r.rssBeforeMb));
  console.log(
    `Peak RSS of the app process over its RSS before the run: **${fmt(growth)} MB** ` +
      `(goal < ${GOAL_RSS_GROWTH_MB} MB: ${growth < GOAL_RSS_GROWTH_MB ? 'met' : 'MISSED'})`,
  );
  // The summary holds the default shape only (scaling runs vary the ticket count).
  if (TICKETS === 100_000)
    recordFigures('payroll', [
      ...results.map((r) => {
        const plain = r.raw.find((x) => x.variant === 'plain')!;
        const run = rates(r).run;
        const ratio = run === undefined ? undefined : run / ((plain.rows * 1000) / plain.ms);
        return {
          figure: `payroll run ÷ raw multi-row INSERT of the same rows, checkpoint ${fmt(r.checkpoint)} (${fmt(TICKETS)} tickets)`,
          today:
            ratio === undefined
              ? 'run not done in its budget'
              : `${ratio.toFixed(2)} (${fmt(run!)} vs ${fmt((plain.rows * 1000) / plain.ms)} rows/s)`,
          goal: `≥ ${GOAL_RATIO}`,
          met: ratio === undefined ? false : ratio >= GOAL_RATIO,
        };
      }),
      {
        figure: `payroll worker peak RSS over its RSS before the run (${fmt(TICKETS)} tickets)`,
        today: `${fmt(growth)} MB`,
        goal: `< ${GOAL_RSS_GROWTH_MB} MB`,
        met: growth < GOAL_RSS_GROWTH_MB,
      },
    ]);
  return ok;
}

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const tmpRoot = resources.makeTempRoot('calmops-bench-payroll-');
  console.log(
    `payroll bench: node ${process.version}, ${cpus().length} CPU(s); ${fmt(TICKETS)} tickets, ${DRIVERS} drivers, ` +
      `checkpoints ${CHECKPOINTS.join(', ')}; app NODE_OPTIONS "${APP_NODE_OPTIONS}"; load average ${loadStr()}`,
  );
  const results: PhaseResult[] = [];
  for (const checkpoint of CHECKPOINTS) results.push(await phase(tmpRoot, checkpoint));
  const ok = report(results);
  console.log(`\nLoad average (1/5/15 min) at the end: ${loadStr()} on ${cpus().length} CPU(s).`);
  await resources.cleanup();
  if (!ok) {
    console.log('\nFAILED: a run did not complete with every ticket processed within its budget (see tables).');
    process.exitCode = 1;
  }
}

installExitHandlers(
  'payroll bench',
  resources,
  CHECKPOINTS.length * (BOOT_TIMEOUT_MS + RUN_TIMEOUT_MS + 2 * QUIET_WAIT_MS + STOP_TIMEOUT_MS + 240_000),
);
runBench('payroll bench', resources, bench);
