import { rmSync } from 'node:fs';
import type { EmbeddedPostgres } from '../../libs/database';
import { readClusterState, testStateFile } from './test-cluster';

/** Stops the test PostgreSQL started by global setup and removes its data. */
export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __calmopsTestPg?: EmbeddedPostgres }).__calmopsTestPg;
  const state = readClusterState();
  rmSync(testStateFile(), { force: true });
  if (!server) return;
  await server.stop();
  if (state.embeddedDir) rmSync(state.embeddedDir, { recursive: true, force: true });
}
