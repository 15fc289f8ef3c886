import { NestFactory } from '@nestjs/core';
import { AppLogger } from '../../libs/observability';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../libs/config';
import { buildDataSourceOptions, pendingMigrations } from '../../libs/database';
import { TaskFlags, TaskRegistry, TaskResult } from '../../libs/tasks';
import { AppModule } from '../app.module';
import { migrateAll, prepareDatabase } from './database-setup';

/** `--name Acme --plan pro --dry-run` → { name: 'Acme', plan: 'pro', 'dry-run': true } */
export function parseFlags(args: string[]): TaskFlags {
  const flags: TaskFlags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (flags look like --name value)`);
    const [key, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (inline !== undefined) flags[key] = inline;
    else if (args[i + 1] !== undefined && !args[i + 1].startsWith('--')) flags[key] = args[++i];
    else flags[key] = true;
  }
  return flags;
}

async function migrationStatus(config: AppConfig): Promise<TaskResult> {
  const url = config.get('DATABASE_ADMIN_URL') ?? config.get('DATABASE_URL');
  const ds = new DataSource(buildDataSourceOptions({ url: url!, applicationName: 'calmops:task', poolSize: 1 }));
  await ds.initialize();
  try {
    const pending = await pendingMigrations(ds);
    return { ok: pending.length === 0, output: { pending } };
  } finally {
    await ds.destroy();
  }
}

/** Tasks that need no application context. */
const CORE_TASKS: Record<string, { description: string; run: (config: AppConfig) => Promise<TaskResult> }> = {
  migrate: {
    description: 'Apply pending database migrations and the queue schema (as the owner role).',
    run: async (config) => ({ ok: true, output: { applied: await migrateAll(config) } }),
  },
  'migrate:status': {
    description: 'List pending migrations; exit 1 if any.',
    run: migrationStatus,
  },
  'config:check': {
    description: 'Validate the configuration (exit 78 naming each bad variable if invalid).',
    run: async (config) => ({
      ok: true,
      output: { ok: true, node_env: config.get('NODE_ENV'), embedded_database: config.embeddedDatabase },
    }),
  },
};

function print(output: unknown): void {
  process.stdout.write(`${typeof output === 'string' ? output : JSON.stringify(output)}\n`);
}

/** Exit code of a configuration error (EX_CONFIG), as for invalid variables at startup. */
const EXIT_CONFIG = 78;

/** Runs one maintenance task and returns the process exit code. */
export async function runTask(config: AppConfig, name: string | undefined, args: string[]): Promise<number> {
  if (name === 'config:check') {
    print((await CORE_TASKS['config:check'].run(config)).output);
    return 0;
  }
  const core = name ? CORE_TASKS[name] : undefined;
  if (core && !config.embeddedDatabase && !config.get('DATABASE_ADMIN_URL')) {
    // Checked before anything connects: the runtime role owns no table and cannot migrate.
    process.stderr.write(
      `Invalid configuration:\n  - DATABASE_ADMIN_URL: required by "${name}" on an external PostgreSQL: the URL ` +
        'of the owner role (calmops_owner), which owns the tables the migrations change\n',
    );
    return EXIT_CONFIG;
  }
  // The embedded database is migrated automatically for tasks, as for `npm start`.
  const db = await prepareDatabase(config, { migrate: name !== 'migrate:status' });
  try {
    if (core) {
      const result = await core.run(db.config);
      print(result.output);
      return result.ok ? 0 : 1;
    }
    const app = await NestFactory.createApplicationContext(AppModule.forRole(db.config, 'task'), {
      bufferLogs: true,
      abortOnError: false,
    });
    app.useLogger(app.get(AppLogger));
    try {
      const registry = app.get(TaskRegistry);
      const task = name ? registry.find(name) : undefined;
      if (!task || name === 'help') {
        const known = [
          ...Object.entries(CORE_TASKS).map(([n, t]) => ({ name: n, description: t.description })),
          ...registry.list(),
        ];
        const help = name === 'help';
        const listing = known.map((t) => `  ${t.name.padEnd(24)} ${t.description}`).join('\n');
        const heading = help ? 'Tasks' : `${name ? `unknown task "${name}"` : 'no task named'}. Tasks`;
        (help ? process.stdout : process.stderr).write(`${heading}:\n${listing}\n`);
        return help ? 0 : 2;
      }
      const result = await task.run(parseFlags(args));
      print(result.output);
      return result.ok ? 0 : 1;
    } finally {
      await app.close();
    }
  } finally {
    await db.stop();
  }
}
