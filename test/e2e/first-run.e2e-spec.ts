import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnApp, TEST_ENV, waitFor } from '../support';
import type { SpawnedApp } from '../support';

/**
 * What `npm start` does on a fresh machine (the built app, role all, embedded PostgreSQL in a
 * new DATA_DIR): a handful of log lines then the banner, the demo key shown once, and no
 * password, key, token or secret in any log line of a realistic session.
 */
describe('first run: readable, quiet, no secret in the logs', () => {
  let dataDir: string;
  const outputs: string[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'calmops-first-run-'));
    chmodSync(dataDir, 0o755);
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(format: 'json' | 'pretty'): Promise<{ app: SpawnedApp; base: string }> {
    const port = await freePort();
    const app = spawnApp(['all'], {
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      LOG_FORMAT: format,
      SHUTDOWN_DELAY_MS: '0',
    });
    await waitFor(() => app.output().includes('CalmOps is up') || app.exitCode() !== null, 180_000, 100);
    expect(app.output()).toContain('CalmOps is up');
    return { app, base: `http://127.0.0.1:${port}` };
  }

  /** Stops it with SIGINT as Ctrl-C does; a failed stop shows what the process printed last. */
  async function interrupt(app: SpawnedApp): Promise<void> {
    const code = await app.stop('SIGINT');
    if (code !== 0) throw new Error(`exit ${code} after SIGINT; its output ends with:\n${app.output().slice(-6000)}`);
  }

  /** The log lines of an output (the banner and task results are not log lines). */
  const logLines = (out: string) => out.split('\n').filter((l) => l.startsWith('{'));

  it('boots with few log lines, shows the demo key once, and logs no secret through a session', async () => {
    const first = await start('json');
    const creds = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as { api_key: string };
    const key = { 'X-API-Key': creds.api_key };
    const me = await fetch(`${first.base}/api/orgs/me?api_key=${creds.api_key}`, { headers: key });
    expect(me.status).toBe(200);
    const made = await fetch(`${first.base}/api/api-keys?token=abc`, {
      method: 'POST',
      headers: { ...key, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ci', scopes: ['orgs:read'] }),
    });
    const newKey = ((await made.json()) as { api_key: string }).api_key;
    expect(newKey).toMatch(/^cops_/);
    expect((await fetch(`${first.base}/api/orgs/me`, { headers: { 'X-API-Key': `${newKey}x` } })).status).toBe(401);
    expect(
      (await fetch(`${first.base}/api/orgs/me`, { headers: { Authorization: 'Bearer abc.def.ghi' } })).status,
    ).toBe(401);
    await interrupt(first.app);
    const firstOut = first.app.output();
    outputs.push(firstOut);

    // At info, the start is a handful of lines, none per route or per module.
    const bannerAt = firstOut.indexOf('CalmOps is up');
    expect(logLines(firstOut.slice(0, bannerAt)).length).toBeLessThanOrEqual(15);
    expect(firstOut).not.toMatch(/Mapped \{|RouterExplorer|InstanceLoader/);
    expect(logLines(firstOut).every((l) => JSON.parse(l) && true)).toBe(true);
    // The demo key: in the banner of the start that made it, and nowhere else.
    expect(firstOut.split(creds.api_key).length - 1).toBe(2); // "Demo API key:" and "Try it:"
    for (const line of logLines(firstOut)) expect(line).not.toContain(creds.api_key);

    const second = await start('pretty');
    await interrupt(second.app);
    const secondOut = second.app.output();
    outputs.push(secondOut);
    expect(secondOut).not.toContain(creds.api_key);
    expect(secondOut).toContain('demo-credentials.json');
    // Pretty: short lines, not JSON.
    expect(logLines(secondOut)).toEqual([]);
    expect(secondOut).toMatch(/INFO.*embedded PostgreSQL/);

    // No secret anywhere in either run's output.
    const roles = JSON.parse(readFileSync(join(dataDir, 'embedded-postgres-secrets.json'), 'utf8')) as Record<
      string,
      string
    >;
    const secrets = [...Object.values(roles), newKey, TEST_ENV.JWT_SECRET, TEST_ENV.DATA_ENCRYPTION_KEYS.split(':')[1]];
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const out of outputs) {
      for (const secret of secrets) expect({ leaked: out.includes(secret) }).toEqual({ leaked: false });
      expect(out).not.toMatch(/api_key=cops_|token=abc/);
      // The database stops after the pools have closed: no connection is cut under them.
      expect(out).not.toMatch(/terminating connection/);
    }
  });
});
