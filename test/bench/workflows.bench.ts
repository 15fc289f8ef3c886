/**
 * Workflows benchmark: BENCH_WORKFLOWS (200) `parallel` workflows of 5 assistant agents each
 * (rules provider) across BENCH_WORKERS (2) worker processes, against the raw pg-boss job rate for
 * the same number of steps, in the same run. Run with `npm run bench:workflows`.
 *
 * - One `api` process starts the embedded PostgreSQL (temp DATA_DIR) and takes the requests; the
 *   workers share it. Rate limits at 100,000,000 (counted), WORKFLOW_MAX_CONCURRENT_PER_ORG =
 *   BENCH_CONCURRENT (50: the default 5 per org would make this a benchmark of the limit),
 *   QUEUE_POLL_INTERVAL_SECONDS 0.5, LOG_LEVEL=warn.
 * - Workflows: POSTed 10 at a time (agents ops, sessions, webhooks, ops, sessions; five steps
 *   each), then polled until every one is completed. workflows/s = workflows ÷ (last completion −
 *   first request). From the database: the agent's own work per step (`duration_ms`), and the
 *   overhead per step — from one step's start to the next step's start of the same run, minus the
 *   first one's own work (lease check, planning, the step's row and the run's progress, commit) —
 *   and the wait from creation to the first step (the queue).
 * - Raw reference: the same number of jobs (workflows × 5) inserted into a scratch pg-boss queue
 *   (its own schema in the same database), then BENCH_WORKERS loops in this process each fetch one
 *   job and complete it, with no pause while jobs are there (pg-boss's `work()` sleeps its polling
 *   interval between fetches, which would make it a benchmark of the interval): jobs/s from the
 *   first fetch to the last completion. Dropped after.
 *
 * Settings (env): BENCH_WORKFLOWS, BENCH_WORKERS, BENCH_CONCURRENT, BENCH_PORT (3970; workers
 * use +2, +3, …), BENCH_PG_PORT (5970), BENCH_BOOT_TIMEOUT_MS (90000).
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import PgBoss from 'pg-boss';
import {
  appEnv,
  assertPortsFree,
  BenchResources,
  embeddedUrl,
  envNumber,
  fmt,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  readDemoCredentials,
  runBench,
  sleep,
  spawnApp,
  stats,
  waitForReady,
} from './bench-harness';

const WORKFLOWS = envNumber('BENCH_WORKFLOWS', 200);
const WORKERS = envNumber('BENCH_WORKERS', 2);
const CONCURRENT = envNumber('BENCH_CONCURRENT', 50);
const PORT = envNumber('BENCH_PORT', 3970);
const PG_PORT = envNumber('BENCH_PG_PORT', 5970);
const BOOT_TIMEOUT_MS = envNumber('BENCH_BOOT_TIMEOUT_MS', 90_000);
const AGENTS = ['ops', 'sessions', 'webhooks', 'ops', 'sessions'];

const resources = new BenchResources();
installExitHandlers('bench:workflows', resources, 30 * 60_000);

async function rawJobs(url: string, jobs: number): Promise<{ seconds: number; perSecond: number }> {
  const boss = new PgBoss({ connectionString: url, schema: 'bench_raw', max: 4 });
  boss.on('error', (err) => console.error(`raw pg-boss: ${err.message}`));
  await boss.start();
  resources.onCleanup(() => boss.stop({ graceful: false, wait: true }));
  await boss.createQueue('bench.raw');
  for (let i = 0; i < jobs; i += 100) {
    await boss.insert(Array.from({ length: Math.min(100, jobs - i) }, () => ({ name: 'bench.raw', data: {} })));
  }
  // As fast as pg-boss goes: each loop fetches one job and completes it, with no pause while jobs are there.
  let done = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (done < jobs) {
        const [job] = await boss.fetch('bench.raw', { batchSize: 1 });
        if (!job) {
          await sleep(5);
          continue;
        }
        await boss.complete('bench.raw', job.id);
        done++;
      }
    }),
  );
  const finished = Date.now();
  await boss.stop({ graceful: true, wait: true });
  const seconds = (finished - started) / 1000;
  return { seconds, perSecond: jobs / seconds };
}

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  const ports = Array.from({ length: WORKERS + 1 }, (_, i) => PORT + 2 + i);
  await assertPortsFree([PORT, ...ports, PG_PORT], 'set BENCH_PORT / BENCH_PG_PORT');
  const dataDir = resources.dataDir(resources.makeTempRoot('calmops-bench-workflows-'));
  console.log(
    `workflows bench: node ${process.version}, ${cpus().length} CPU(s), ${WORKFLOWS} parallel workflows of ` +
      `${AGENTS.length} agents, ${WORKERS} workers; load average ${loadStr()}`,
  );
  const settings = {
    WORKFLOW_MAX_CONCURRENT_PER_ORG: String(CONCURRENT),
    QUEUE_POLL_INTERVAL_SECONDS: '0.5',
  };
  const api = spawnApp(resources, 'api', 'api', appEnv(dataDir, PG_PORT, { PORT: String(PORT), ...settings }));
  const creds = await waitForReady(api, PORT, BOOT_TIMEOUT_MS, () => readDemoCredentials(dataDir));
  for (let w = 0; w < WORKERS; w++) {
    const worker = spawnApp(
      resources,
      `worker ${w + 1}`,
      'worker',
      appEnv(dataDir, PG_PORT, { HEALTH_PORT: String(ports[w]), ...settings }),
    );
    await waitForReady(worker, ports[w], BOOT_TIMEOUT_MS);
  }
  const su = await resources.connect(embeddedUrl(dataDir, PG_PORT, 'superuser'), 'calmops:bench-workflows');
  const headers = { 'x-api-key': creds.api_key };

  const raw = await rawJobs(embeddedUrl(dataDir, PG_PORT, 'superuser'), WORKFLOWS * AGENTS.length);
  await su.query('DROP SCHEMA IF EXISTS bench_raw CASCADE');

  const started = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < WORKFLOWS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, WORKFLOWS - i) }, () =>
        httpRequest({
          port: PORT,
          method: 'POST',
          path: '/api/workflows',
          headers,
          body: { pattern: 'parallel', agents: AGENTS, input: { message: 'What is going on?' } },
          timeoutMs: 30_000,
        }),
      ),
    );
    for (const res of batch) {
      if (res?.status !== 202) throw new Error(`POST /api/workflows: ${res?.status} ${res?.body}`);
      ids.push((JSON.parse(res.body) as { id: string }).id);
    }
  }
  for (;;) {
    const [row] = (
      await su.query(
        `SELECT count(*) FILTER (WHERE status = 'completed')::int AS done,
                count(*) FILTER (WHERE status IN ('failed', 'cancelled', 'escalated'))::int AS bad,
                max(finished_at) AS last
         FROM workflow_runs WHERE id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows as { done: number; bad: number; last: Date | null }[];
    if (row.bad) throw new Error(`${row.bad} workflows did not complete`);
    if (row.done === ids.length) {
      const seconds = (row.last!.getTime() - started) / 1000;
      const steps = (
        await su.query(
          `SELECT s.run_id, s.seq, s.duration_ms, extract(epoch FROM s.created_at) * 1000 AS at_ms, s.executed_by,
                  extract(epoch FROM r.created_at) * 1000 AS run_at_ms
           FROM workflow_steps s JOIN workflow_runs r ON r.id = s.run_id WHERE s.run_id = ANY($1::uuid[])
           ORDER BY s.run_id, s.seq`,
          [ids],
        )
      ).rows as {
        run_id: string;
        seq: number;
        duration_ms: number;
        at_ms: number;
        executed_by: string;
        run_at_ms: number;
      }[];
      const own = steps.map((s) => Number(s.duration_ms));
      const overhead: number[] = [];
      const queueWait: number[] = [];
      for (let i = 0; i < steps.length; i++) {
        if (steps[i].seq === 1) queueWait.push(Number(steps[i].at_ms) - Number(steps[i].run_at_ms));
        else if (steps[i - 1]?.run_id === steps[i].run_id) {
          overhead.push(Number(steps[i].at_ms) - Number(steps[i - 1].at_ms) - Number(steps[i - 1].duration_ms));
        }
      }
      const o = stats(overhead)!;
      const a = stats(own)!;
      const q = stats(queueWait)!;
      const perWorker = new Map<string, number>();
      for (const s of steps) perWorker.set(s.executed_by, (perWorker.get(s.executed_by) ?? 0) + 1);
      const stepRate = steps.length / seconds;
      console.log('| measure | value |');
      console.log('|---|--:|');
      console.log(`| workflows completed | ${ids.length} (${fmt(steps.length)} steps) |`);
      console.log(`| wall time, first request → last completion | ${fmt(seconds, 1)} s |`);
      console.log(`| workflows/s | ${fmt(ids.length / seconds, 1)} |`);
      console.log(`| steps/s | ${fmt(stepRate, 1)} |`);
      console.log(`| raw pg-boss jobs/s (same count, ${WORKERS} fetch+complete loops) | ${fmt(raw.perSecond, 1)} |`);
      console.log(`| steps/s ÷ raw jobs/s | ${fmt(stepRate / raw.perSecond, 2)} |`);
      console.log(`| agent's own work per step, p50 / p90 | ${fmt(a.p50, 2)} / ${fmt(a.p90, 2)} ms |`);
      console.log(
        `| overhead per step (next start − start − own work), p50 / p90 | ${fmt(o.p50, 2)} / ${fmt(o.p90, 2)} ms |`,
      );
      console.log(`| created → first step, p50 / p90 | ${fmt(q.p50, 0)} / ${fmt(q.p90, 0)} ms |`);
      console.log(`| steps per worker | ${[...perWorker.values()].join(', ')} |`);
      break;
    }
    await sleep(200);
  }
  await resources.cleanup();
}

runBench('bench:workflows', resources, bench);
