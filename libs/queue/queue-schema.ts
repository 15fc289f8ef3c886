import PgBoss from 'pg-boss';

export const QUEUE_SCHEMA = 'pgboss';

/** Installs or upgrades pg-boss' own schema (part of `task migrate`), as the system role. */
export async function installQueueSchema(systemUrl: string): Promise<void> {
  const boss = new PgBoss({
    connectionString: systemUrl,
    schema: QUEUE_SCHEMA,
    application_name: 'calmops:migrate-queue',
    max: 2,
    migrate: true,
    supervise: false,
    schedule: false,
  });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, close: true, wait: true });
}
