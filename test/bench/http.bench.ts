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
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import {
  appEnv,
  applyNice,
  assertPortsFree,
  BenchResources,
  busyCpus,
  busyStr,
  CannonResult,
  cpuTicks,
  envDecimal,
  envNice,
  fmt,
  httpRequest,
  installExitHandlers,
  loadStr,
  MAIN,
  mean,
  processCpuMs,
  procStat,
  ROOT,
  runAutocannon,
  runBench,
  spawnApp,
  Spawned,
  stopProcess,
  waitForQuiet,
  waitForReady,
} from './bench-harness';
import { recordFigures } from './summary';

const GOAL_RATIO = 0.5;

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

const CONNECTIONS = envDecimal('BENCH_CONNECTIONS', 50);
const DURATION_S = envDecimal('BENCH_DURATION', 10);
const WARMUP_S = envDecimal('BENCH_WARMUP', 2);
const ROUNDS = envDecimal('BENCH_ROUNDS', 2);
const PIPELINING = envDecimal('BENCH_PIPELINING', 1);
const PORT = envDecimal('BENCH_PORT', 3910);
const HEALTH_PORT = PORT + 2;
const BARE_PORT = envDecimal('BENCH_BARE_PORT', 3911);
const PG_PORT = envDecimal('BENCH_PG_PORT', 5910);
const BOOT_TIMEOUT_MS = envDecimal('BENCH_BOOT_TIMEOUT_MS', 60000);
const STOP_TIMEOUT_MS = 40000;
const QUIET_WAIT_MS = envDecimal('BENCH_QUIET_WAIT_MS', 90000, true);

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

/**
 * BENCH_NICE (unset = leave priorities alone): nice value for the bench process, the app and the
 * processes it starts (PostgreSQL inherits it), e.g. -10 on a machine shared with other work.
 */
const NICE = envNice();

const resources = new BenchResources();

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); else undefined. */
function serverCpuMs(pid: number | undefined): number | undefined {
  return pid && procStat(pid) ? processCpuMs(pid) : undefined;
}

function get(url: string) {
  const { port, pathname } = new URL(url);
  return httpRequest({ port: Number(port), method: 'GET', path: pathname, timeoutMs: 2000 });
}

function startApp(dataDir: string): Spawned {
  const env = appEnv(
    dataDir,
    PG_PORT,
    { PORT: String(PORT), HEALTH_PORT: String(HEALTH_PORT) },
    { unlimitedPlans: [] },
  );
  const app = spawnApp(resources, 'CalmOps app', 'all', env);
  applyNice(NICE, app.child.pid);
  return app;
}

function startBare(): Spawned {
  const child = spawn(
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), __filename, '--serve-bare', String(BARE_PORT)],
    { cwd: ROOT, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  applyNice(NICE, child.pid);
  return resources.track('bare Nest app', child);
}

function cannon(url: string, durationS: number): Promise<CannonResult> {
  return runAutocannon({ url, connections: CONNECTIONS, duration: durationS, pipelining: PIPELINING });
}

const us = (v: number | undefined) => (v === undefined ? '?' : v.toFixed(0));

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
    const busy = busyStr(m.busyBefore, m.busyDuring);
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
  recordFigures('http', [
    {
      figure: 'GET /health/live ÷ bare Nest route (req/s)',
      today: `${ratio.toFixed(2)} (${fmt(summary.live.rps)} vs ${fmt(summary.bare.rps)}/s)`,
      goal: `≥ ${GOAL_RATIO}`,
      met: ratio >= GOAL_RATIO,
    },
  ]);
  return ok;
}

async function bench(): Promise<void> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  await assertPortsFree([PORT, HEALTH_PORT, BARE_PORT, PG_PORT], 'set BENCH_PORT / BENCH_BARE_PORT / ...');
  applyNice(NICE);
  const tmpRoot = resources.makeTempRoot('calmops-bench-http-');
  console.log(
    `http bench: node ${process.version}, ${cpus().length} CPU(s); ${CONNECTIONS} connections, ` +
      `${DURATION_S} s per measurement after ${WARMUP_S} s warm-up, ${ROUNDS} round(s); ` +
      `load average ${loadStr()}; nice ${NICE ?? 'unchanged'}`,
  );

  const app = startApp(resources.dataDir(tmpRoot));
  const bare = startBare();
  await waitForReady(app, PORT, BOOT_TIMEOUT_MS);
  await waitForReady(bare, BARE_PORT, BOOT_TIMEOUT_MS, undefined, '/bare');
  for (const target of ['live', 'bare'] as Target[]) {
    const answer = await get(TARGETS[target].url);
    console.log(`${target}: ${answer?.status} ${answer?.body}`);
  }

  const measurements: Measurement[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order: Target[] = round % 2 ? ['live', 'bare'] : ['bare', 'live'];
    for (const [i, target] of order.entries()) {
      const busyBefore = await waitForQuiet(QUIET_WAIT_MS);
      await cannon(TARGETS[target].url, WARMUP_S);
      const server = target === 'live' ? app : bare;
      const ticks = cpuTicks();
      const cpuBefore = serverCpuMs(server.child.pid);
      const result = await cannon(TARGETS[target].url, DURATION_S);
      const cpuAfter = serverCpuMs(server.child.pid);
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
  const codes = { app: await stopProcess(app, STOP_TIMEOUT_MS), bare: await stopProcess(bare, STOP_TIMEOUT_MS) };
  if (codes.app !== 0 || codes.bare !== 0) {
    throw new Error(`exit codes after SIGTERM: app ${codes.app}, bare ${codes.bare} (want 0). ${app.output()}`);
  }
  await resources.cleanup();
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
  installExitHandlers(
    'http bench',
    resources,
    2 * BOOT_TIMEOUT_MS + ROUNDS * 2 * ((WARMUP_S + DURATION_S + 15) * 1000 + QUIET_WAIT_MS) + 2 * STOP_TIMEOUT_MS,
  );
  runBench('http bench', resources, bench);
}
