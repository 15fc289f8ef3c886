/**
 * Chaos at scale, nothing lost: `npm run test:chaos` (exit 0 only when every invariant holds).
 *
 * One PostgreSQL (embedded, started and restarted by this script), 2 api and 3 worker
 * processes of the built app, all on 127.0.0.1. Load, all at once: CHAOS_ORGS (50) orgs with a
 * payroll run each, CHAOS_CALLS (1,000) inbound calls routed to agents that a dialer here answers
 * and ends, CHAOS_DELIVERIES (10,000) webhook deliveries to a receiver here, CHAOS_WORKFLOWS
 * (100) workflows. Meanwhile: a random worker SIGKILLed every CHAOS_KILL_EVERY_MS (4,000) and
 * restarted, all workers killed at once (the workers_alive incident must open, then resolve),
 * PostgreSQL restarted once (readiness must go 503 and come back), one api SIGTERMed mid-load.
 *
 * Afterwards: every accepted request (2xx) has its effect; each org's payroll totals equal what
 * the calculator computes from the same rows (an undisturbed run) with no line twice; no agent
 * was ever over capacity (sampled every 250 ms) and agents' counts match their calls; every
 * delivery succeeded and reached the receiver, the only repeats being deliveries in flight when
 * a worker was killed (same webhook-id: at-least-once, as Standard Webhooks documents, and
 * receivers deduplicate on it); every workflow completed with each step recorded once.
 */
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { AppConfig, generateKeyringEntry } from '../../libs/config';
import { DatabaseService, runMigrations, startEmbeddedDatabase } from '../../libs/database';
import { installQueueSchema } from '../../libs/queue';
import { AppModule } from '../../src/app.module';
import { OrgsService } from '../../src/orgs/orgs.service';
import {
  BenchResources,
  envNumber,
  httpRequest,
  installExitHandlers,
  MAIN,
  ROOT,
  runBench,
  sleep,
  Spawned,
  stopProcess,
  waitForReady,
} from '../bench/bench-harness';
import { expectedJobTotals, PERIOD, seedPayroll } from '../e2e/fixtures/payroll-seed';
import { freePort } from '../support';

const ORGS = envNumber('CHAOS_ORGS', 50);
const CALLS = envNumber('CHAOS_CALLS', 1000);
const DELIVERIES = envNumber('CHAOS_DELIVERIES', 10000);
const WORKFLOWS = envNumber('CHAOS_WORKFLOWS', 100);
const KILL_EVERY_MS = envNumber('CHAOS_KILL_EVERY_MS', 4000);
const LOAD_SECONDS = envNumber('CHAOS_LOAD_SECONDS', 45);
const DRAIN_SECONDS = envNumber('CHAOS_DRAIN_SECONDS', 300);
const TIME_LIMIT_S = envNumber('CHAOS_TIME_LIMIT_SECONDS', 600);
const DRIVERS_PER_ORG = 4;
const TICKETS_PER_ORG = 600;
const CALL_ORGS = Math.min(10, ORGS);
const AGENTS_PER_ORG = 5;
const AGENT_CAPACITY = 2;
const ENDPOINT_ORGS = Math.min(10, ORGS);
const WORKFLOW_AGENTS = ['ops', 'sessions', 'webhooks'];
/** A job taken by a killed worker is retried once pg-boss expires it (webhooks.deliver: 150 s). */
const WEBHOOK_TIMEOUT_MS = 2000;

const resources = new BenchResources();
const failures: string[] = [];
const t0 = Date.now();
const log = (line: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);

function expectThat(ok: boolean, what: string): void {
  if (!ok) failures.push(what);
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
}

interface Proc {
  name: string;
  role: 'api' | 'worker';
  port: number;
  spawned?: Spawned;
  up: boolean;
}

interface Org {
  id: string;
  headers: Record<string, string>;
}

async function main(): Promise<void> {
  installExitHandlers('chaos', resources, TIME_LIMIT_S * 1000);
  const root = resources.makeTempRoot('calmops-chaos-');
  const dataDir = resources.dataDir(root);
  const pgPort = await freePort();
  const db = await startEmbeddedDatabase(dataDir, pgPort);
  resources.onCleanup(() => db.server.stop());
  await runMigrations(db.urls.admin);
  await installQueueSchema(db.urls.system);

  // The system role (BYPASSRLS) reads every org's rows for the checks; the pool reconnects by
  // itself after the restart, and a query that meets the restart is retried.
  const pool = new Pool({ connectionString: db.urls.system, max: 4, application_name: 'calmops:chaos' });
  pool.on('error', () => undefined);
  resources.onCleanup(() => pool.end());
  const query = async <T>(text: string, values: unknown[] = []): Promise<T[]> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await pool.query(text, values)).rows as T[];
      } catch (err) {
        if (attempt >= 150) throw err;
        await sleep(200);
      }
    }
  };

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    DATA_DIR: root,
    DATABASE_URL: db.urls.runtime,
    DATABASE_SYSTEM_URL: db.urls.system,
    DATABASE_ADMIN_URL: db.urls.admin,
    JWT_SECRET: randomBytes(32).toString('base64url'),
    DATA_ENCRYPTION_KEYS: generateKeyringEntry('chaos'),
    LOG_LEVEL: 'error',
    LOG_FORMAT: 'json',
    SHUTDOWN_DELAY_MS: '0',
    SHUTDOWN_TIMEOUT_MS: '10000',
    RATE_LIMIT_FREE_PER_HOUR: '100000000',
    RATE_LIMIT_PRO_PER_HOUR: '100000000',
    RATE_LIMIT_ENTERPRISE_PER_HOUR: '100000000',
    RATE_LIMIT_IP_PER_15_MIN: '10000000',
    WEBHOOKS_ALLOW_HTTP: 'true',
    WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true',
    WEBHOOK_TIMEOUT_MS: String(WEBHOOK_TIMEOUT_MS),
    WORKER_HEARTBEAT_INTERVAL_MS: '500',
    HEALTH_SAMPLE_SECONDS: '1',
    INCIDENT_THRESHOLDS: JSON.stringify({ workers_alive: { for_seconds: 1, keep_firing_for_seconds: 3 } }),
    PAYROLL_POLL_INTERVAL_MS: '200',
    PAYROLL_LEASE_SECONDS: '3',
    PAYROLL_CHECKPOINT_EVERY: '20',
    PAYROLL_RETRY_BASE_MS: '200',
    PAYROLL_RETRY_CAP_MS: '2000',
    PAYROLL_MAX_ATTEMPTS: '50',
    WORKFLOW_LEASE_SECONDS: '3',
    QUEUE_POLL_INTERVAL_SECONDS: '0.5',
    READINESS_CACHE_MS: '100',
    SESSION_ROUTABLE_HEARTBEAT_SECONDS: '120',
    SESSION_OFFLINE_AFTER_SECONDS: '600',
    CALL_OFFER_TIMEOUT_SECONDS: '30',
  };

  // ---- orgs and keys, made as `task create-org` makes them --------------------------------------
  const config = AppConfig.load(env);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRole(config, 'task'), { logger: false });
  await ctx.get(DatabaseService).whenConnected();
  const orgs: Org[] = [];
  for (let i = 0; i < ORGS; i++) {
    const { org, apiKey } = await ctx
      .get(OrgsService)
      .create(`Chaos ${i}`, 'pro', { actorType: 'system', actorId: 'chaos' }, { ownerKey: true });
    orgs.push({ id: org.id, headers: { 'x-api-key': apiKey! } });
  }
  await ctx.close();
  log(`${orgs.length} orgs with owner keys`);

  // ---- the receiver -----------------------------------------------------------------------------
  const received = new Map<string, number[]>();
  const receiver = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      const times = received.get(id) ?? [];
      times.push(Date.now());
      received.set(id, times);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  resources.onCleanup(() => new Promise((r) => receiver.close(r)));
  const receiverPort = (receiver.address() as AddressInfo).port;

  // ---- the processes ------------------------------------------------------------------------------
  const procs: Proc[] = [];
  for (let i = 1; i <= 2; i++) procs.push({ name: `api-${i}`, role: 'api', port: await freePort(), up: false });
  for (let i = 1; i <= 3; i++) procs.push({ name: `worker-${i}`, role: 'worker', port: await freePort(), up: false });
  const apis = procs.filter((p) => p.role === 'api');
  const workers = procs.filter((p) => p.role === 'worker');
  const start = async (p: Proc) => {
    const child = spawn(process.execPath, [MAIN, p.role], {
      cwd: ROOT,
      env: { ...env, ...(p.role === 'api' ? { PORT: String(p.port) } : { HEALTH_PORT: String(p.port) }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.spawned = resources.track(p.name, child);
    await waitForReady(p.spawned, p.port, 60_000);
    p.up = true;
  };
  await Promise.all(procs.map(start));
  log(`2 api + 3 workers up on one PostgreSQL (:${pgPort})`);

  // ---- requests: any live api; 2xx counts as accepted ----------------------------------------------
  const accepted: Record<string, number> = {};
  const notAccepted: Record<string, number> = {};
  let tried = 0;
  let rr = 0;
  const count = (bag: Record<string, number>, key: string) => (bag[key] = (bag[key] ?? 0) + 1);
  const send = async (
    kind: string,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
    attempts = 8,
  ): Promise<{ status: number; body: string } | undefined> => {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const live = apis.filter((a) => a.up);
      const target = live.length ? live[rr++ % live.length] : apis[rr++ % apis.length];
      tried++;
      const answer = await httpRequest({ port: target.port, method, path, headers, body, timeoutMs: 15_000 });
      if (answer && answer.status < 500) {
        count(answer.status < 300 ? accepted : notAccepted, answer.status < 300 ? kind : `${kind} ${answer.status}`);
        return answer;
      }
      count(notAccepted, `${kind} ${answer?.status ?? 'no answer'}`);
      await sleep(250 * (attempt + 1));
    }
    return undefined;
  };

  // ---- seed: payroll data, agents, endpoints ------------------------------------------------------
  for (const org of orgs) await seedPayroll(db.urls.system, org.id, DRIVERS_PER_ORG, TICKETS_PER_ORG);
  const sessionsByOrg = new Map<string, string[]>();
  for (const org of orgs.slice(0, CALL_ORGS)) {
    const rows = await query<{ id: string }>(
      `WITH a AS (
         INSERT INTO call_agents (org_id, name, max_concurrent_calls)
         SELECT $1, 'Agent ' || i, $3 FROM generate_series(1, $2) i RETURNING id, org_id),
       s AS (
         INSERT INTO agent_sessions (org_id, agent_id, capacity, idle_since)
         SELECT org_id, id, $3, now() FROM a RETURNING id, org_id)
       INSERT INTO agent_presence (session_id, org_id, device_connected) SELECT id, org_id, true FROM s
       RETURNING session_id AS id`,
      [org.id, AGENTS_PER_ORG, AGENT_CAPACITY],
    );
    sessionsByOrg.set(
      org.id,
      rows.map((r) => r.id),
    );
  }
  const endpoints: { org: Org; id: string }[] = [];
  for (const org of orgs.slice(0, ENDPOINT_ORGS)) {
    const res = await send('endpoint', 'POST', '/api/webhooks/endpoints', org.headers, {
      url: `http://127.0.0.1:${receiverPort}/hooks/${org.id}`,
      event_types: ['webhook.test'],
    });
    if (res?.status !== 201) throw new Error(`endpoint: ${res?.status} ${res?.body}`);
    endpoints.push({ org, id: (JSON.parse(res.body) as { id: string }).id });
  }
  log(
    `seeded ${orgs.length} × ${TICKETS_PER_ORG} tickets, ${CALL_ORGS} × ${AGENTS_PER_ORG} agents, ${endpoints.length} endpoints`,
  );

  // ---- chaos --------------------------------------------------------------------------------------
  const kills: { at: number; worker: string }[] = [];
  let stopChaos = false;
  const killWorker = async (w: Proc) => {
    if (!w.up || !w.spawned) return;
    w.up = false;
    kills.push({ at: Date.now(), worker: w.name });
    w.spawned.child.kill('SIGKILL');
    await w.spawned.exited;
  };
  const readiness: { at: number; status: number | undefined }[] = [];
  let stopProbes = false;
  const readinessProbe = (async () => {
    while (!stopProbes) {
      const a = apis.find((p) => p.up);
      if (a) {
        const res = await httpRequest({ port: a.port, method: 'GET', path: '/health/ready', timeoutMs: 2000 });
        readiness.push({ at: Date.now(), status: res?.status });
      }
      await sleep(200);
    }
  })();
  let overbookedSamples = 0;
  let capacitySamples = 0;
  const capacityProbe = (async () => {
    while (!stopChaos) {
      const [row] = await query<{ over: number }>(
        `SELECT count(*)::int AS over FROM agent_sessions WHERE active_calls > capacity`,
      ).catch(() => [{ over: 0 }]);
      capacitySamples++;
      overbookedSamples += row.over;
      await sleep(250);
    }
  })();
  let pgRestart: { stoppedAt: number; startedAt: number } | undefined;
  let apiTerminated: string | undefined;
  let allWorkersKilledAt: number | undefined;
  /** What happens between random worker kills, in this order, one per CHAOS_KILL_EVERY_MS tick. */
  const events: (() => Promise<void>)[] = [
    async () => {
      // Every worker at once: nothing consumes the queues until they are back.
      allWorkersKilledAt = Date.now();
      await Promise.all(workers.map(killWorker));
      log('SIGKILL all 3 workers');
      const opened = await waitUntil(30_000, async () => {
        const rows = await query(
          `SELECT 1 FROM incidents WHERE signal = 'workers_alive' AND status IN ('triage', 'active', 'mitigated')`,
        );
        return rows.length > 0;
      });
      log(`workers_alive incident ${opened ? 'opened' : 'did NOT open'}`);
      await Promise.all(workers.map(start));
      log('workers restarted');
    },
    async () => {
      const stoppedAt = Date.now();
      await db.server.stop();
      log('PostgreSQL stopped');
      await sleep(3000);
      await db.server.start();
      pgRestart = { stoppedAt, startedAt: Date.now() };
      const back = await waitUntil(30_000, async () =>
        readiness.some((r) => r.at > pgRestart!.startedAt && r.status === 200),
      );
      log(
        `PostgreSQL started again; readiness ${back ? `200 after ${Date.now() - pgRestart.startedAt} ms` : 'not back'}`,
      );
    },
    async () => {
      const api = apis[0];
      api.up = false;
      apiTerminated = api.name;
      log(`SIGTERM ${api.name} mid-load`);
      await stopProcess(api.spawned!, 30_000);
      await start(api);
      log(`${api.name} restarted`);
    },
  ];
  const chaos = (async () => {
    const deadline = Date.now() + LOAD_SECONDS * 1000;
    for (let tick = 1; !stopChaos && (Date.now() < deadline || events.length); tick++) {
      await sleep(KILL_EVERY_MS);
      if (tick % 2 === 0 && events.length) {
        await events.shift()!();
        continue;
      }
      const victims = workers.filter((w) => w.up);
      const victim = victims[Math.floor(Math.random() * victims.length)];
      if (victim) {
        await killWorker(victim);
        log(`SIGKILL ${victim.name}`);
        await sleep(1000);
        await start(victim);
      }
    }
  })();

  // ---- load, all at once --------------------------------------------------------------------------
  const runs = new Map<string, string>();
  const payrollLoad = (async () => {
    for (const org of orgs) {
      const res = await send(
        'payroll run',
        'POST',
        '/api/payroll/run',
        { ...org.headers, 'idempotency-key': `chaos-run-${org.id}` },
        { pay_period_start: PERIOD.start, pay_period_end: PERIOD.end },
      );
      if (res && res.status < 300) runs.set(org.id, (JSON.parse(res.body) as { job_id: string }).job_id);
      // Spread over the first half of the load, so kills and the restart meet runs in progress.
      await sleep((LOAD_SECONDS * 1000 * 0.5) / ORGS);
    }
  })();
  const acceptedCalls = new Map<string, string>();
  const callOrgs = orgs.slice(0, CALL_ORGS);
  const callLoad = (async () => {
    const gap = (LOAD_SECONDS * 1000 * 0.8) / CALLS;
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = lane; i < CALLS; i += 8) {
          const org = callOrgs[i % callOrgs.length];
          const externalId = `chaos-call-${i}`;
          const res = await send('inbound call', 'POST', '/api/calls/inbound', org.headers, {
            from: `+1555${String(i).padStart(7, '0')}`,
            to: '+15559870000',
            external_id: externalId,
          });
          if (res && res.status < 300)
            acceptedCalls.set(externalId, (JSON.parse(res.body) as { call_id: string }).call_id);
          await sleep(gap * 8);
        }
      }),
    );
  })();
  let dialerStop = false;
  const answered = { answers: 0, ends: 0 };
  const dialer = (async () => {
    while (!dialerStop) {
      const ringing = await query<{ id: string; org_id: string; status: string }>(
        `SELECT id, org_id, status FROM calls WHERE status IN ('ringing', 'in_progress') ORDER BY assigned_at LIMIT 40`,
      );
      await Promise.all(
        ringing.map(async (c) => {
          const org = orgs.find((o) => o.id === c.org_id)!;
          if (c.status === 'ringing') {
            const res = await send('answer', 'POST', `/api/calls/${c.id}/answer`, org.headers, {}, 2);
            if (res?.status === 200) answered.answers++;
          } else {
            const res = await send('end', 'POST', `/api/calls/${c.id}/end`, org.headers, {}, 2);
            if (res?.status === 200) answered.ends++;
          }
        }),
      );
      await sleep(ringing.length ? 50 : 200);
    }
  })();
  const heartbeats = (async () => {
    while (!dialerStop) {
      for (const org of callOrgs) {
        for (const session of sessionsByOrg.get(org.id) ?? []) {
          await send(
            'heartbeat',
            'POST',
            `/api/sessions/${session}/heartbeat`,
            org.headers,
            { device_connected: true },
            1,
          );
        }
      }
      await sleep(5000);
    }
  })();
  const eventsInserted = { n: 0 };
  const webhookLoad = (async () => {
    const batches = 20;
    const perBatch = Math.ceil(DELIVERIES / batches);
    for (let b = 0; b < batches && eventsInserted.n < DELIVERIES; b++) {
      const n = Math.min(perBatch, DELIVERIES - eventsInserted.n);
      // The outbox as EventPublisher writes it; one event names one endpoint, so one delivery.
      await query(
        `INSERT INTO domain_events (org_id, type, data)
         SELECT e.org_id, 'webhook.test', jsonb_build_object('target_endpoint_id', e.id, 'seq', $3::int + g)
         FROM generate_series(0, $1 - 1) g
         JOIN LATERAL (SELECT id, org_id FROM webhook_endpoints WHERE id = ($2::uuid[])[1 + g % array_length($2::uuid[], 1)]) e ON true`,
        [n, endpoints.map((e) => e.id), eventsInserted.n],
      );
      eventsInserted.n += n;
      await sleep((LOAD_SECONDS * 1000 * 0.7) / batches);
    }
  })();
  const workflowIds: string[] = [];
  const workflowLoad = (async () => {
    for (let i = 0; i < WORKFLOWS; i++) {
      const org = orgs[i % orgs.length];
      const res = await send(
        'workflow',
        'POST',
        '/api/workflows',
        { ...org.headers, 'idempotency-key': `chaos-wf-${i}` },
        { pattern: 'parallel', agents: WORKFLOW_AGENTS, input: { message: `What is going on? (${i})` } },
      );
      if (res && res.status < 300) workflowIds.push((JSON.parse(res.body) as { id: string }).id);
      await sleep((LOAD_SECONDS * 1000 * 0.6) / WORKFLOWS);
    }
  })();

  await Promise.all([payrollLoad, callLoad, webhookLoad, workflowLoad]);
  log(`load sent: ${JSON.stringify(accepted)}`);
  await chaos;
  stopChaos = true;
  for (const w of workers) if (!w.up) await start(w);
  for (const a of apis) if (!a.up) await start(a);
  log('chaos over; draining');

  // ---- drain: wait for every effect --------------------------------------------------------------
  const drained = await waitUntil(
    DRAIN_SECONDS * 1000,
    async () => {
      const [s] = await query<{ runs: number; calls: number; deliveries: number; workflows: number; events: number }>(
        `SELECT
         (SELECT count(*)::int FROM payroll_runs WHERE status NOT IN ('completed', 'completed_with_flags', 'failed', 'cancelled', 'superseded')) AS runs,
         (SELECT count(*)::int FROM calls WHERE status IN ('queued', 'ringing', 'in_progress')) AS calls,
         (SELECT count(*)::int FROM webhook_deliveries WHERE status <> 'succeeded') AS deliveries,
         (SELECT count(*)::int FROM domain_events WHERE relayed_at IS NULL) AS events,
         (SELECT count(*)::int FROM workflow_runs WHERE status NOT IN ('completed', 'failed', 'cancelled', 'escalated')) AS workflows`,
      );
      const [d] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries`);
      const busy = s.runs + s.calls + s.deliveries + s.workflows + s.events;
      if (busy) {
        const jobs = await query<{ name: string; state: string; n: number }>(
          `SELECT name, state, count(*)::int AS n FROM pgboss.job WHERE state IN ('created', 'retry', 'active')
         GROUP BY 1, 2 ORDER BY 1, 2`,
        );
        const byStatus = await query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE status <> 'succeeded' GROUP BY 1`,
        );
        log(
          `waiting: ${JSON.stringify({ ...s, delivery_rows: d.n })} jobs ${JSON.stringify(jobs.map((j) => `${j.name}:${j.state}:${j.n}`))} ` +
            `deliveries ${JSON.stringify(byStatus)}`,
        );
      }
      return busy === 0 && d.n >= eventsInserted.n;
    },
    5000,
  );
  dialerStop = true;
  stopChaos = true;
  stopProbes = true;
  await Promise.all([dialer, heartbeats, capacityProbe, readinessProbe]);
  expectThat(drained, `everything drained within ${DRAIN_SECONDS} s`);

  // ---- checks -------------------------------------------------------------------------------------
  // Payroll: every accepted run finished and pays what the calculator says; no line twice.
  const runRows = await query<{ id: string; org_id: string; status: string; totals: Record<string, number> | null }>(
    `SELECT id, org_id, status, jsonb_build_object('gross_cents', gross_cents, 'deductions_cents', deductions_cents,
       'net_cents', net_cents, 'held_cents', held_cents) AS totals FROM payroll_runs`,
  );
  let payrollMismatches = 0;
  for (const [orgId, runId] of runs) {
    const row = runRows.find((r) => r.id === runId);
    const want = await expectedJobTotals(db.urls.system, orgId);
    const got = row?.totals ? Object.fromEntries(Object.keys(want).map((k) => [k, Number(row.totals![k])])) : null;
    if (
      !row ||
      !['completed', 'completed_with_flags'].includes(row.status) ||
      JSON.stringify(got) !== JSON.stringify(want)
    ) {
      payrollMismatches++;
      log(`payroll ${orgId}: ${row?.status} ${JSON.stringify(got)} ≠ ${JSON.stringify(want)}`);
    }
  }
  const [dupLines] = await query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM payroll_run_lines GROUP BY run_id, line_key, kind HAVING count(*) > 1) d`,
  );
  expectThat(runs.size === orgs.length, `payroll: ${runs.size} of ${orgs.length} runs accepted`);
  expectThat(
    payrollMismatches === 0,
    `payroll: ${runs.size - payrollMismatches} runs pay exactly what an undisturbed calculation pays`,
  );
  expectThat(dupLines.n === 0, `payroll: ${dupLines.n} duplicated lines`);

  // Calls: every accepted call exists and ended; never over capacity; counts consistent.
  const callRows = await query<{ external_id: string; status: string; agent_id: string | null }>(
    `SELECT external_id, status, agent_id FROM calls WHERE external_id LIKE 'chaos-call-%'`,
  );
  const callsByExt = new Map(callRows.map((c) => [c.external_id, c]));
  const lostCalls = [...acceptedCalls.keys()].filter((ext) => !callsByExt.has(ext)).length;
  const routed = callRows.filter((c) => c.agent_id !== null).length;
  const [consistency] = await query<{ over: number; mismatched: number }>(
    `SELECT count(*) FILTER (WHERE s.active_calls > s.capacity)::int AS over,
            count(*) FILTER (WHERE s.active_calls <> coalesce(l.n, 0))::int AS mismatched
     FROM agent_sessions s
     LEFT JOIN (SELECT session_id, count(*)::int AS n FROM calls WHERE status IN ('ringing', 'in_progress') GROUP BY session_id) l
       ON l.session_id = s.id`,
  );
  expectThat(acceptedCalls.size === CALLS, `calls: ${acceptedCalls.size} of ${CALLS} accepted`);
  expectThat(lostCalls === 0, `calls: ${lostCalls} accepted calls missing`);
  expectThat(routed === acceptedCalls.size, `calls: ${routed} routed to an agent and ended`);
  expectThat(
    overbookedSamples === 0 && consistency.over === 0,
    `calls: 0 overbooked agents in ${capacitySamples} samples (saw ${overbookedSamples})`,
  );
  expectThat(
    consistency.mismatched === 0,
    `calls: ${consistency.mismatched} sessions whose count disagrees with their calls`,
  );

  // Webhooks: every delivery succeeded and reached the receiver; repeats only from killed attempts.
  // The webhook-id a receiver sees is the event's id (one event, one delivery here).
  const deliveryRows = await query<{ event_id: string; status: string }>(
    `SELECT event_id, status FROM webhook_deliveries`,
  );
  if (deliveryRows.length < eventsInserted.n) {
    // Where the events without a delivery went: their relay time and the fan-out jobs that carried them.
    const orphans = await query<{ id: string; relayed_at: Date | null }>(
      `SELECT e.id, e.relayed_at FROM domain_events e WHERE e.type = 'webhook.test'
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id) ORDER BY e.relayed_at LIMIT 3`,
    );
    for (const o of orphans) {
      const jobs = await query<Record<string, unknown>>(
        `SELECT name, state, retry_count, created_on, started_on, completed_on, output FROM pgboss.job
          WHERE data::text LIKE '%' || $1 || '%'
         UNION ALL
         SELECT name, state, retry_count, created_on, started_on, completed_on, output FROM pgboss.archive
          WHERE data::text LIKE '%' || $1 || '%'`,
        [o.id],
      );
      log(`event ${o.id} relayed ${o.relayed_at?.toISOString()} without a delivery; jobs ${JSON.stringify(jobs)}`);
    }
    log(`kills ${JSON.stringify(kills.map((k) => `${k.worker}@${new Date(k.at).toISOString()}`))}`);
  }
  const succeeded = deliveryRows.filter((d) => d.status === 'succeeded').length;
  const missing = deliveryRows.filter((d) => !received.has(d.event_id)).length;
  const repeats = [...received.entries()].filter(([, t]) => t.length > 1);
  const unexplained = repeats.filter(
    ([, times]) => !kills.some((k) => times[0] <= k.at && times[0] >= k.at - WEBHOOK_TIMEOUT_MS - 30_000),
  );
  const known = new Set(deliveryRows.map((d) => d.event_id));
  const strangers = [...received.keys()].filter((id) => !known.has(id)).length;
  expectThat(
    deliveryRows.length === eventsInserted.n,
    `webhooks: ${deliveryRows.length} deliveries for ${eventsInserted.n} events`,
  );
  expectThat(succeeded === deliveryRows.length, `webhooks: ${succeeded} succeeded`);
  expectThat(missing === 0, `webhooks: ${missing} never reached the receiver`);
  expectThat(strangers === 0, `webhooks: ${strangers} requests the receiver could not match to a delivery`);
  expectThat(
    unexplained.length === 0,
    `webhooks: ${repeats.length} received twice, all first sent just before a worker was killed (${unexplained.length} otherwise)`,
  );

  // Workflows: all completed, each step recorded once.
  const wf = await query<{ id: string; status: string; steps: number; distinct_steps: number }>(
    `SELECT r.id, r.status, count(s.id)::int AS steps, count(DISTINCT (s.step, s.branch, s.round))::int AS distinct_steps
     FROM workflow_runs r LEFT JOIN workflow_steps s ON s.run_id = r.id WHERE r.id = ANY($1::uuid[]) GROUP BY r.id, r.status`,
    [workflowIds],
  );
  const stepCounts = new Set(wf.map((w) => w.steps));
  expectThat(workflowIds.length === WORKFLOWS, `workflows: ${workflowIds.length} of ${WORKFLOWS} accepted`);
  expectThat(
    wf.every((w) => w.status === 'completed'),
    `workflows: ${wf.filter((w) => w.status === 'completed').length} completed`,
  );
  expectThat(
    wf.every((w) => w.steps === w.distinct_steps) && stepCounts.size === 1,
    `workflows: every step recorded once (${[...stepCounts].join('/')} steps per run)`,
  );

  // Readiness during the restart, incidents for the dead workers.
  const during = readiness.filter((r) => pgRestart && r.at >= pgRestart.stoppedAt && r.at <= pgRestart.startedAt + 500);
  const after = readiness.filter((r) => pgRestart && r.at > pgRestart.startedAt);
  const cameBack = after.some((r) => r.status === 200);
  expectThat(
    !!pgRestart && during.some((r) => r.status === 503),
    `readiness: 503 during the PostgreSQL restart (${during.length} probes)`,
  );
  expectThat(cameBack, 'readiness: 200 again after the restart');
  const incidents = await query<{ status: string; opened_at: Date; resolved_at: Date | null }>(
    `SELECT status, opened_at, resolved_at FROM incidents WHERE signal = 'workers_alive' ORDER BY opened_at`,
  );
  expectThat(
    incidents.length > 0 && incidents.every((i) => i.resolved_at !== null),
    `incidents: workers_alive opened ${incidents.length}× after all workers died, all resolved`,
  );
  expectThat(!!apiTerminated, `api: ${apiTerminated ?? 'none'} SIGTERMed mid-load and restarted`);
  // A database restart is a 503 the client retries; a 500 would be a defect.
  const serverErrors = Object.entries(notAccepted).filter(([k]) => / 5\d\d$/.test(k) && !k.endsWith(' 503'));
  expectThat(serverErrors.length === 0, `http: no answer 500 or other 5xx but 503 (${JSON.stringify(serverErrors)})`);
  if (serverErrors.length) {
    // Every api process that ran, the ones since replaced included.
    for (const p of resources.children.filter((c) => c.name.startsWith('api'))) {
      const lines = p
        .output()
        .split('\n')
        .filter((l) => l.includes('"level":50'));
      for (const line of lines.slice(-5)) log(`${p.name}: ${line.slice(0, 1500)}`);
    }
  }

  // How much work the kills and the restart actually interrupted.
  const [interrupted] = await query<{
    runs_taken_over: number;
    deliveries_retried: number;
    workflows_taken_over: number;
  }>(
    `SELECT
       (SELECT count(*)::int FROM (SELECT run_id FROM payroll_run_events WHERE to_status = 'running'
          GROUP BY run_id HAVING count(*) > 1) x) AS runs_taken_over,
       (SELECT count(*)::int FROM webhook_deliveries WHERE attempts > 1) AS deliveries_retried,
       (SELECT count(*)::int FROM (SELECT run_id FROM workflow_steps GROUP BY run_id
          HAVING count(DISTINCT executed_by) > 1) x) AS workflows_taken_over`,
  );
  const figures = {
    interrupted,
    requests_tried: tried,
    accepted,
    not_accepted: notAccepted,
    worker_kills: kills.length,
    all_workers_killed_at_s: allWorkersKilledAt ? Math.round((allWorkersKilledAt - t0) / 1000) : null,
    postgres_restarts: pgRestart ? 1 : 0,
    api_sigterms: apiTerminated ? 1 : 0,
    payroll_runs: runs.size,
    calls_routed: routed,
    dialer: answered,
    deliveries: deliveryRows.length,
    deliveries_received_twice: repeats.length,
    workflows_completed: wf.filter((w) => w.status === 'completed').length,
    readiness_probes_503: readiness.filter((r) => r.status === 503).length,
    items_lost: lostCalls + missing + (orgs.length - runs.size) + payrollMismatches,
    seconds: Math.round((Date.now() - t0) / 1000),
  };
  console.log(`\nchaos figures: ${JSON.stringify(figures, null, 2)}`);
  await Promise.all(procs.map((p) => (p.spawned && p.up ? stopProcess(p.spawned, 20_000) : undefined)));
  await resources.cleanup();
  if (failures.length) {
    console.error(`\nchaos: ${failures.length} invariant(s) broken:\n- ${failures.join('\n- ')}`);
    process.exit(1);
  }
  console.log('\nchaos: every invariant held');
  process.exit(0);
}

async function waitUntil(timeoutMs: number, condition: () => Promise<boolean>, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}

runBench('chaos', resources, main);
