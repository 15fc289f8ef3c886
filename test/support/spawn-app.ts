import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { isPortFree } from '../../libs/database';
import { TEST_ENV } from './test-app';

export const MAIN = join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface SpawnedApp {
  child: ChildProcess;
  output: () => string;
  /** What it wrote to stdout only. */
  stdout: () => string;
  /** null while it runs. */
  exitCode: () => number | null;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop: (signal?: NodeJS.Signals) => Promise<number | string>;
}

/** Runs the built application (`node dist/src/main.js ...args`) as a child process. */
export function spawnApp(args: string[], env: Record<string, string | undefined>, script = MAIN): SpawnedApp {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...TEST_ENV, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    stdout += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    exitCode: () => child.exitCode,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Waits until `GET url` answers 200. A loaded machine may take long to boot a process, so the
 * wait is generous; a process that exits first fails at once, and either failure shows what the
 * process printed.
 */
export async function waitUntilReady(app: SpawnedApp, url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (app.exitCode() !== null || app.child.signalCode !== null) {
      throw new Error(
        `the process exited (${app.exitCode() ?? app.child.signalCode}) before ${url} answered 200:\n${app.output().slice(-6000)}`,
      );
    }
    const status = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
      (r) => r.status,
      () => undefined,
    );
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${url} did not answer 200 within ${timeoutMs} ms (last: ${status ?? 'no answer'}); the process printed:\n${app.output().slice(-6000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a command of the built app to completion. */
export async function runApp(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60000,
): Promise<{ code: number | string; output: string; stdout: string }> {
  const app = spawnApp(args, env);
  const timer = setTimeout(() => app.child.kill('SIGKILL'), timeoutMs);
  const code = await app.exited;
  clearTimeout(timer);
  return { code, output: app.output(), stdout: app.stdout() };
}

/**
 * Ports for spawned processes lie below the kernel's ephemeral range (32768 and up on Linux):
 * a port checked free there can be taken by one of the tests' many outgoing connections in the
 * seconds before the spawned process binds it. Each jest worker has its own thousand ports, so
 * two workers never pick the same one; other scripts (the chaos run) take theirs below 20000.
 */
const jestWorker = Number(process.env.JEST_WORKER_ID);
let nextPort =
  Number.isInteger(jestWorker) && jestWorker > 0
    ? 20000 + ((jestWorker - 1) % 12) * 1000
    : 10000 + (process.pid % 450) * 20;

/** A free TCP port on 127.0.0.1 (distinct per jest worker), below the ephemeral range. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = nextPort++;
    if (await isPortFree(port)) return port;
  }
}

/** The three database URLs of a test database, as a spawned process reads them. */
export function dbEnv(db: { runtime: string; admin: string; system: string }): Record<string, string> {
  return { DATABASE_URL: db.runtime, DATABASE_ADMIN_URL: db.admin, DATABASE_SYSTEM_URL: db.system };
}
