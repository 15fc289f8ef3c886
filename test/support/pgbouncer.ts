import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './spawn-app';
import { waitFor } from './test-app';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

/** The pgbouncer binary (Debian package "pgbouncer"), or undefined when it is not installed. */
export function pgbouncerBinary(): string | undefined {
  const found = CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface PgBouncer {
  port: number;
  /** `url` with host and port replaced by the bouncer's. */
  through: (url: string) => string;
  /** SHOW STATS of one database: transactions and queries served in transaction mode. */
  stats: (database: string) => Promise<{ xacts: number; queries: number }>;
  /** SHOW POOLS of one database: server connections in use and idle, clients waiting. */
  pools: (database: string) => Promise<{ server_active: number; server_idle: number; client_waiting: number }>;
  /** Backend pids of the server connections the bouncer holds (SHOW SERVERS). */
  serverPids: () => Promise<number[]>;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * PgBouncer on 127.0.0.1 in transaction pooling mode in front of a PostgreSQL, as the
 * scale-out deployment runs it: clients authenticate with their own role's password, at most
 * `poolSize` server connections per database and role.
 */
export async function startPgBouncer(options: {
  upstreamHost: string;
  upstreamPort: number;
  users: Record<string, string>;
  poolSize?: number;
  binary?: string;
}): Promise<PgBouncer> {
  const binary = options.binary ?? pgbouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'calmops-pgbouncer-'));
  const port = await freePort();
  const admin = Object.keys(options.users)[0];
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  writeFileSync(
    join(dir, 'userlist.txt'),
    Object.entries(options.users)
      .map(([u, p]) => `${quote(u)} ${quote(p)}`)
      .join('\n') + '\n',
  );
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${options.upstreamHost} port=${options.upstreamPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir =`,
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${options.poolSize ?? 5}`,
      'max_client_conn = 500',
      `admin_users = ${admin}`,
      `stats_users = ${admin}`,
      // What the PostgreSQL driver may send at startup and the bouncer does not track itself.
      'ignore_startup_parameters = extra_float_digits,options',
      'server_reset_query =',
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root; the files must be readable by the user it runs as.
  const asRoot = userInfo().uid === 0;
  for (const f of ['', 'userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, f), f ? 0o644 : 0o755);
  const args = [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')];
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const adminQuery = async <T>(text: string): Promise<T[]> => {
    const c = new Client({
      host: '127.0.0.1',
      port,
      user: admin,
      password: options.users[admin],
      database: 'pgbouncer',
    });
    await c.connect();
    try {
      // The admin console speaks the simple protocol only.
      const config = { text, queryMode: 'simple' } as unknown as string;
      return (await c.query(config)).rows as T[];
    } finally {
      await c.end();
    }
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited: ${out}`);
      await adminQuery('SHOW VERSION');
      return true;
    },
    10000,
    100,
  );
  return {
    port,
    through: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    stats: async (database) => {
      const row = (await adminQuery<Record<string, string>>('SHOW STATS')).find((r) => r.database === database);
      return { xacts: Number(row?.total_xact_count ?? 0), queries: Number(row?.total_query_count ?? 0) };
    },
    pools: async (database) => {
      const rows = (await adminQuery<Record<string, string>>('SHOW POOLS')).filter((r) => r.database === database);
      const sum = (k: string) => rows.reduce((n, r) => n + Number(r[k] ?? 0), 0);
      return { server_active: sum('sv_active'), server_idle: sum('sv_idle'), client_waiting: sum('cl_waiting') };
    },
    serverPids: async () =>
      (await adminQuery<Record<string, string>>('SHOW SERVERS')).map((r) => Number(r.remote_pid)).filter(Boolean),
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
