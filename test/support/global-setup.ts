import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppConfig } from '../../libs/config';
import {
  buildUrls,
  EmbeddedPortInUseError,
  EmbeddedPostgres,
  isPortFree,
  provisionRolesAndDatabase,
  RolePasswords,
} from '../../libs/database';
import { migrateAll } from '../../src/bootstrap/database-setup';
import { TEMPLATE_DB, TEST_ROOT, TestClusterState } from './test-cluster';

async function freePort(from: number): Promise<number> {
  for (let port = from; port < from + 200; port++) if (await isPortFree(port)) return port;
  throw new Error('no free port for the test PostgreSQL');
}

/**
 * Once per `npm test`: builds dist/ (tests spawn the real binary), starts one PostgreSQL (or
 * uses TEST_DATABASE_URL, a superuser URL), and migrates a template database that every test
 * file clones.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-if-needed.js')], { stdio: 'inherit' });
  mkdirSync(TEST_ROOT, { recursive: true, mode: 0o755 });
  const passwords: RolePasswords = {
    owner: randomBytes(16).toString('hex'),
    runtime: randomBytes(16).toString('hex'),
    system: randomBytes(16).toString('hex'),
  };
  let state: TestClusterState;
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const url = new URL(external);
    state = {
      superuserUrl: external,
      host: url.hostname,
      port: Number(url.port || 5432),
      passwords,
      template: TEMPLATE_DB,
    };
  } else {
    const dir = join(TEST_ROOT, `pg-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    const superPassword = randomBytes(16).toString('hex');
    let server: EmbeddedPostgres | undefined;
    // Another test run on this machine may take a port between our check and our start.
    for (let port = await freePort(55432 + (process.pid % 200)); !server; port = await freePort(port + 1)) {
      const candidate = new EmbeddedPostgres({ dataDir: dir, port });
      if (!candidate.initialised) candidate.initialise(superPassword);
      try {
        await candidate.start();
        server = candidate;
      } catch (err) {
        const raced = /could not bind|already in use/i.test((err as Error).message);
        if (!(err instanceof EmbeddedPortInUseError) && !raced) throw err;
      }
    }
    const port = server.port;
    (globalThis as { __calmopsTestPg?: EmbeddedPostgres }).__calmopsTestPg = server;
    state = {
      superuserUrl: `postgres://postgres:${superPassword}@127.0.0.1:${port}/postgres`,
      host: '127.0.0.1',
      port,
      passwords,
      template: TEMPLATE_DB,
      embeddedDir: dir,
      embeddedPid: server.pid,
    };
  }
  await provisionRolesAndDatabase(state.superuserUrl, TEMPLATE_DB, passwords);
  const urls = buildUrls(state.host, state.port, TEMPLATE_DB, passwords);
  const config = AppConfig.load({
    DATABASE_URL: urls.runtime,
    DATABASE_ADMIN_URL: urls.admin,
    DATABASE_SYSTEM_URL: urls.system,
  });
  await migrateAll(config);
  const stateFile = join(TEST_ROOT, `cluster-${process.pid}.json`);
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  process.env.CALMOPS_TEST_STATE_FILE = stateFile;
}
