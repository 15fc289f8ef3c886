/**
 * Assistant agents benchmark: `POST /api/agents/ask` to the resolution agent about a payroll run of
 * BENCH_TICKETS (10,000) tickets, with the rules provider, against reading the same run's first
 * statements page (`GET /api/payroll/jobs/:id/statements`, the data the agent has to look at), in
 * the same run. Run with `npm run bench:agents`.
 *
 * - The app is `node dist/src/main.js all` with its own embedded PostgreSQL, LOG_LEVEL=warn, every
 *   rate limit at 100,000,000 (still counted). The demo org's owner key asks.
 * - Seeding as the embedded superuser: BENCH_DRIVERS (1,000) drivers in the pay-type rotation of
 *   test/e2e/fixtures/payroll-seed.ts, BENCH_TICKETS tickets over the period; one ticket in 50 has
 *   no quantity, one in 200 repeats another's number and one driver has no rate, so the run has
 *   flagged lines of several kinds (blocking ones, so each answer drafts a support ticket); hours
 *   stay under the daily limit, so most lines are clean. The run is enqueued by HTTP and waited for.
 * - Each target: autocannon with BENCH_CONNECTIONS (1 and 10) connections for BENCH_DURATION
 *   (10 s) after BENCH_WARMUP (2 s), alternating the order per round (BENCH_ROUNDS, 2). Every ask
 *   really answers: it reads the run's evidence, diagnoses, writes the conversation, its tool
 *   call, its audit events and a pending approval request.
 *
 * Settings (env): BENCH_TICKETS, BENCH_DRIVERS, BENCH_CONNECTIONS ("1,10"), BENCH_DURATION,
 * BENCH_WARMUP, BENCH_ROUNDS, BENCH_PORT (3960; +2 is HEALTH_PORT), BENCH_PG_PORT (5960),
 * BENCH_BOOT_TIMEOUT_MS (90000).
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  CannonResult,
  embeddedUrl,
  envIntList,
  envNumber,
  fmt,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  readDemoCredentials,
  runAutocannon,
  runBench,
  sleep,
  spawnApp,
  waitForReady,
} from './bench-harness';

const TICKETS = envNumber('BENCH_TICKETS', 10_000);
const DRIVERS = envNumber('BENCH_DRIVERS', 1000);
const CONNECTIONS = envIntList('BENCH_CONNECTIONS', '1,10', 1, 1000);
const DURATION_S = envNumber('BENCH_DURATION', 10);
const WARMUP_S = envNumber('BENCH_WARMUP', 2);
const ROUNDS = envNumber('BENCH_ROUNDS', 2);
const PORT = envNumber('BENCH_PORT', 3960);
const HEALTH_PORT = PORT + 2;
const PG_PORT = envNumber('BENCH_PG_PORT', 5960);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 90_000);
const PERIOD = { start: '2026-11-02', end: '2026-11-15' };
const PAY_TYPES = ['hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load'];

const resources = new BenchResources();
installExitHandlers('bench:agents', resources, 30 * 60_000);

type Target = 'ask' | 'statements';

function cannon(target: Target, apiKey: string, runId: string, connections: number, duration: number) {
  const base = { url: `http://127.0.0.1:${PORT}`, connections, duration, pipelining: 1 };
  if (target === 'statements') {
    return runAutocannon({
      ...base,
      url: `${base.url}/api/payroll/jobs/${runId}/statements?limit=50`,
      headers: { 'x-api-key': apiKey },
    });
  }
  return runAutocannon({
    ...base,
    url: `${base.url}/api/agents/ask`,
    method: 'POST',
    headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'Why are lines of this run held?', context: { payroll_run_id: runId } }),
  });
}

function check(r: CannonResult, what: string): void {
  if (r.errors || r.timeouts || r.non2xx) {
    throw new Error(`${what}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  }
}

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  await assertPortsFree([PORT, HEALTH_PORT, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  const dataDir = resources.dataDir(resources.makeTempRoot('calmops-bench-agents-'));
  console.log(
    `agents bench: node ${process.version}, ${cpus().length} CPU(s), ${fmt(TICKETS)} tickets, connections ` +
      `${CONNECTIONS.join(', ')}, ${ROUNDS} round(s) of ${WARMUP_S}+${DURATION_S} s; load average ${loadStr()}`,
  );
  const app = spawnApp(
    resources,
    'CalmOps app',
    'all',
    appEnv(dataDir, PG_PORT, { PORT: String(PORT), HEALTH_PORT: String(HEALTH_PORT) }),
  );
  const creds = await waitForReady(app, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dataDir));
  const su = await resources.connect(embeddedUrl(dataDir, PG_PORT, 'superuser'), 'calmops:bench-agents');
  const org = creds.org_id;
  await su.query(
    `INSERT INTO payroll_drivers (org_id, name, pay_type, rate)
     SELECT $1, 'Bench driver ' || i, ($2::text[])[1 + (i % 6)],
            CASE WHEN i = 7 THEN NULL WHEN ($2::text[])[1 + (i % 6)] = 'percentage' THEN 27.5
                 WHEN ($2::text[])[1 + (i % 6)] = 'salary' THEN 1400 ELSE 18.25 END
     FROM generate_series(1, $3) i`,
    [org, PAY_TYPES, DRIVERS],
  );
  await su.query(
    `INSERT INTO payroll_tickets (org_id, ticket_number, driver_id, work_date, hours, tons, yards, loads, revenue_cents)
     SELECT $1, CASE WHEN t % 200 = 0 THEN 'B-' || (t - 1) ELSE 'B-' || t END, d.id, $3::date + (t % 14),
            4 + (t % 5) * 0.5, CASE WHEN t % 50 = 0 THEN NULL ELSE 10 + (t % 13) * 1.125 END,
            CASE WHEN t % 50 = 0 THEN NULL ELSE 5 + (t % 4) * 2.5 END, CASE WHEN t % 50 = 0 THEN NULL ELSE 1 + (t % 3) END,
            45000 + (t % 17) * 1234
     FROM generate_series(1, $2) t
     JOIN LATERAL (SELECT id FROM payroll_drivers WHERE org_id = $1 ORDER BY name OFFSET (t % $4) LIMIT 1) d ON true`,
    [org, TICKETS, PERIOD.start, DRIVERS],
  );
  await su.query('ANALYZE');
  const headers = { 'x-api-key': creds.api_key };
  const run = await httpRequest({
    port: PORT,
    method: 'POST',
    path: '/api/payroll/run',
    headers,
    body: { pay_period_start: PERIOD.start, pay_period_end: PERIOD.end },
    timeoutMs: 30_000,
  });
  if (run?.status !== 202) throw new Error(`enqueue: ${run?.status} ${run?.body}`);
  const runId = (JSON.parse(run.body) as { job_id: string }).job_id;
  for (;;) {
    const res = await httpRequest({
      port: PORT,
      method: 'GET',
      path: `/api/payroll/jobs/${runId}`,
      headers,
      timeoutMs: 10_000,
    });
    const status = res ? (JSON.parse(res.body) as { status: string }).status : '?';
    if (status === 'completed' || status === 'completed_with_flags') break;
    if (status === 'failed' || status === 'cancelled') throw new Error(`the seeded run ended ${status}`);
    await sleep(500);
  }
  const [flags] = (
    await su.query(
      `SELECT count(*) FILTER (WHERE jsonb_array_length(flags) > 0)::int AS flagged, count(*)::int AS lines
       FROM payroll_run_lines WHERE run_id = $1`,
      [runId],
    )
  ).rows as { flagged: number; lines: number }[];
  const probe = await httpRequest({
    port: PORT,
    method: 'POST',
    path: '/api/agents/ask',
    headers,
    body: { message: 'Why are lines of this run held?', context: { payroll_run_id: runId } },
    timeoutMs: 30_000,
  });
  if (probe?.status !== 200) throw new Error(`ask probe: ${probe?.status} ${probe?.body}`);
  const answer = JSON.parse(probe.body) as { evidence: unknown[]; proposals: unknown[] };
  console.log(
    `run ${runId}: ${fmt(flags.lines)} lines, ${fmt(flags.flagged)} flagged; one answer explains ` +
      `${answer.evidence.length} finding(s) and drafts ${answer.proposals.length} proposal(s)\n`,
  );

  const rows: { connections: number; round: number; target: Target; r: CannonResult }[] = [];
  for (const connections of CONNECTIONS) {
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Target[] = round % 2 ? ['ask', 'statements'] : ['statements', 'ask'];
      for (const target of order) {
        check(await cannon(target, creds.api_key, runId, connections, WARMUP_S), `${target} warm-up`);
        const r = await cannon(target, creds.api_key, runId, connections, DURATION_S);
        check(r, target);
        rows.push({ connections, round, target, r });
      }
    }
  }
  console.log('| connections | round | target | req/s | p50 ms | p99 ms | ask ÷ statements (req/s) |');
  console.log('|--:|--:|---|--:|--:|--:|--:|');
  for (const row of rows) {
    const other = rows.find(
      (x) => x.connections === row.connections && x.round === row.round && x.target === 'statements',
    )!;
    const ratio = row.target === 'ask' ? fmt(row.r.requests.mean / other.r.requests.mean, 2) : '';
    console.log(
      `| ${row.connections} | ${row.round} | ${row.target === 'ask' ? 'POST /api/agents/ask' : 'GET …/statements?limit=50'} | ` +
        `${fmt(row.r.requests.mean, 1)} | ${row.r.latency.p50} | ${row.r.latency.p99} | ${ratio} |`,
    );
  }
  const [stored] = (
    await su.query(
      `SELECT (SELECT count(*)::int FROM agent_conversations) AS c, (SELECT count(*)::int FROM approval_requests) AS a`,
    )
  ).rows as { c: number; a: number }[];
  console.log(`\nstored: ${fmt(stored.c)} conversations, ${fmt(stored.a)} approval requests`);
  await resources.cleanup();
}

runBench('bench:agents', resources, bench);
