import { Client } from 'pg';
import { provisionRolesAndDatabase } from '../../libs/database';
import { readClusterState } from '../support';

/**
 * Several processes (an api and its workers on the embedded database) provision the same roles
 * at the same moment on every boot: they take turns instead of failing with "tuple concurrently
 * updated".
 */
describe('provisioning roles and the database (service)', () => {
  const state = readClusterState();
  const database = `calmops_provision_${process.pid}`;

  afterAll(async () => {
    const client = new Client({ connectionString: state.superuserUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${database}`);
    await client.end();
  });

  it('eight concurrent provisionings of one cluster all succeed', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => provisionRolesAndDatabase(state.superuserUrl, database, state.passwords)),
    );
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    ).toEqual([]);
  });
});
