import 'reflect-metadata';
import { APP_ROLES, AppConfig, AppRole, ConfigValidationError } from '../libs/config';
import { announce, bootLogger } from './bootstrap/boot-logger';
import { PreparedDatabase, prepareDatabase } from './bootstrap/database-setup';
import { withDevSecrets } from './bootstrap/dev-secrets';
import { createHttpApp } from './bootstrap/http-app';
import { installShutdown } from './bootstrap/shutdown';
import { runTask } from './bootstrap/task';
import { createProbeServer, createWorkerApp } from './bootstrap/worker-app';
import { OrgsService } from './orgs/orgs.module';

const EXIT_USAGE = 2;
const EXIT_CONFIG = 78;

function usage(): never {
  process.stderr.write(
    `usage: node dist/src/main.js <${APP_ROLES.join('|')}> [task name] [--flags]\n` +
      `       (or set APP_ROLE). Example: node dist/src/main.js task migrate\n`,
  );
  process.exit(EXIT_USAGE);
}

function loadConfig(): AppConfig {
  try {
    return withDevSecrets(AppConfig.load(process.env));
  } catch (err) {
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function serve(config: AppConfig, role: Exclude<AppRole, 'task'>): Promise<void> {
  const db = await prepareDatabase(config, { migrate: true });
  try {
    await start(db, role);
  } catch (err) {
    // The embedded server is detached from this process: never leave it orphaned.
    await db.stop();
    // A setting a feature checks when it starts (e.g. INCIDENT_THRESHOLDS names a signal).
    if (err instanceof ConfigValidationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function start(db: PreparedDatabase, role: Exclude<AppRole, 'task'>): Promise<void> {
  const cfg = db.config;
  const host = cfg.get('HOST');
  if (role === 'worker') {
    const app = await createWorkerApp(cfg);
    const probes = createProbeServer(app);
    await new Promise<void>((resolve) => probes.listen(cfg.get('HEALTH_PORT'), host, resolve));
    installShutdown({ app, servers: [probes], config: cfg, stopDatabase: db.stop });
    announce([`CalmOps worker is up. Probes: http://localhost:${cfg.get('HEALTH_PORT')}/health/ready`]);
    return;
  }
  const app = await createHttpApp(cfg, role);
  await app.listen(cfg.get('PORT'), host);
  installShutdown({ app, servers: [app.getHttpServer()], config: cfg, stopDatabase: db.stop });
  const demo = db.embedded ? await app.get(OrgsService).ensureDemoOrg(cfg.get('DATA_DIR')) : undefined;
  const base = `http://localhost:${cfg.get('PORT')}`;
  announce([
    `CalmOps is up (role: ${role}).`,
    cfg.get('SWAGGER_ENABLED')
      ? `  Swagger UI:   ${base}/docs   (OpenAPI JSON: ${base}/docs-json)`
      : '  Swagger UI:   disabled',
    `  Probes:       ${base}/health/live   ${base}/health/ready`,
    `  Metrics:      ${base}/metrics`,
    db.embedded
      ? `  Database:     embedded PostgreSQL, data in ${cfg.get('DATA_DIR')}/postgres`
      : '  Database:     DATABASE_URL',
    // The key is shown once, when it is made; later starts say where it is kept.
    ...(demo?.created
      ? [
          `  Demo org:     ${demo.org_id}`,
          `  Demo API key: ${demo.api_key}   (shown once; also in ${demo.file})`,
          `  Try it:       curl -H "X-API-Key: ${demo.api_key}" ${base}/api/orgs/me`,
        ]
      : demo
        ? [
            `  Demo org:     ${demo.org_id}   (its API key is in ${demo.file})`,
            `  Try it:       curl -H "X-API-Key: $(node -p 'require("${demo.file}").api_key')" ${base}/api/orgs/me`,
          ]
        : []),
  ]);
}

async function main(): Promise<void> {
  const [arg, ...rest] = process.argv.slice(2);
  const role = (arg ?? process.env.APP_ROLE) as AppRole | undefined;
  if (!role || !APP_ROLES.includes(role)) usage();
  const config = loadConfig();
  if (role === 'task') {
    const args = arg ? rest : [];
    const [name, ...flags] = args;
    const code = await runTask(config, name, flags);
    // Exit explicitly: a library timer left behind must not keep a CronJob pod alive.
    process.exit(code);
  }
  await serve(config, role);
}

main().catch((err: Error) => {
  bootLogger.fatal({ err }, `startup failed: ${err.message}`);
  process.exit(1);
});
