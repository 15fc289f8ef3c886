import { rmSync } from 'node:fs';
import type { EmbeddedPostgres } from '../database';
import { readClusterState } from './test-cluster';

/** Stops the test PostgreSQL started by global setup and removes its data. */
export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __calmopsTestPg?: EmbeddedPostgres }).__calmopsTestPg;
  if (!server) return;
  await server.stop();
  const dir = readClusterState().embeddedDir;
  if (dir) rmSync(dir, { recursive: true, force: true });
}
