import { createTestDatabase, dbEnv, runApp, TestDatabase } from '../support';

/** A task's stdout is its result alone, so it pipes into jq or JSON.parse; logs go to stderr. */
describe('task output', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('create-org prints only its JSON result on stdout, with the logs on stderr', async () => {
    const res = await runApp(['task', 'create-org', '--name', 'Piped Org'], { ...dbEnv(db), LOG_LEVEL: 'debug' });
    expect(res.code).toBe(0);
    const result = JSON.parse(res.stdout) as { org_id: string; api_key: string };
    expect(result.api_key).toMatch(/^cops_/);
    // The logs were there, on stderr.
    expect(res.output.length).toBeGreaterThan(res.stdout.length);
  });

  it('sessions-readiness and migrate:status print one JSON document on stdout', async () => {
    for (const task of ['sessions-readiness', 'migrate:status']) {
      const res = await runApp(['task', task], { ...dbEnv(db), LOG_LEVEL: 'info' });
      expect({ task, code: res.code }).toEqual({ task, code: 0 });
      expect(() => JSON.parse(res.stdout)).not.toThrow();
    }
  });
});
