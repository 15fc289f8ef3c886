import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { AppConfig, ENV_SPEC } from '../../libs/config/app-config';
import { DB_ROLES } from '../../libs/database/database-roles';

/**
 * Static checks of docker/: the files parse, probes point at what each role serves, containers
 * run unprivileged, every variable is one the app reads and validates, and no credential is
 * committed. A manifest mistake otherwise shows up only during a rollout.
 */

interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; runAsUser?: number };
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    terminationGracePeriodSeconds?: number;
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: PodTemplate;
    jobTemplate?: { spec: { template: PodTemplate; backoffLimit?: number } };
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    ports?: { port: number; targetPort: number | string }[];
    schedule?: string;
    concurrencyPolicy?: string;
    backoffLimit?: number;
  };
}
interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  restart?: string;
  stop_grace_period?: string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  healthcheck?: { test: string[] };
}

const ROOT = join(__dirname, '..', '..');
const DOCKER = join(ROOT, 'docker');
const read = (file: string) => readFileSync(file, 'utf8');
const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
// Merge keys (`<<: *app`) are how the compose file shares the app service definition.
const parse = (file: string) => Array.from(parseAllDocuments(read(file), { merge: true }));

const yamlFiles = walk(DOCKER).filter((f) => /\.ya?ml$/.test(f));
const k8s: K8sObject[] = yamlFiles
  .filter((f) => f.startsWith(join(DOCKER, 'k8s')))
  .flatMap((f) => parse(f).map((d) => d.toJS() as K8sObject));
const compose = parse(join(DOCKER, 'docker-compose.yml'))[0].toJS() as { services: Record<string, ComposeService> };
const appServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
/** What the app reads, and what Node itself reads (the worker's heap limit). */
const ENV_NAMES = [...Object.keys(ENV_SPEC), 'NODE_OPTIONS'];

/** A Kubernetes memory quantity (Mi / Gi) in bytes. */
function parseMemory(quantity: string | undefined): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  if (!m) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(m[1]) * 2 ** (m[2] === 'Gi' ? 30 : 20);
}

function find(kind: string, name: string): K8sObject {
  const obj = k8s.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`no ${kind} ${name} in docker/k8s`);
  return obj;
}
const configMap = find('ConfigMap', 'calmops-config');
const secret = find('Secret', 'calmops-secrets');

function podTemplate(obj: K8sObject): PodTemplate | undefined {
  return obj.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec.template : obj.spec?.template;
}
const workloads = k8s.filter((o) => ['Deployment', 'Job', 'CronJob'].includes(o.kind));
const containersOf = (obj: K8sObject) => podTemplate(obj)?.spec.containers ?? [];

/**
 * Values generated per run for secrets the files leave as placeholders (a whole `REPLACE_ME`
 * or `${NAME:?...}`), so the production config built from them can be validated. A password
 * inside a URL keeps its placeholder: the URL still parses.
 */
const STAND_INS: Record<string, string> = {
  JWT_SECRET: randomBytes(48).toString('base64url'),
  DATA_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  METRICS_TOKEN: randomBytes(32).toString('base64url'),
};
const fillPlaceholders = (values: Record<string, string> = {}) =>
  Object.fromEntries(
    Object.entries(values).map(([name, v]) => [name, v === 'REPLACE_ME' ? (STAND_INS[name] ?? v) : v]),
  );

/** The environment a container starts with, secrets taken from the example Secret. */
function containerEnv(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, find('ConfigMap', from.configMapRef.name).data);
    if (from.secretRef) Object.assign(env, fillPlaceholders(find('Secret', from.secretRef.name).stringData));
  }
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    env[e.name] = ref ? fillPlaceholders(find('Secret', ref.name).stringData)[ref.key] : (e.value ?? '');
  }
  return env;
}

function probe(c: Container, kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe') {
  const get = c[kind]?.httpGet;
  const port = typeof get?.port === 'string' ? c.ports?.find((p) => p.name === get.port)?.containerPort : get?.port;
  return { path: get?.path, port };
}

/**
 * `${NAME:-default}` → default, as compose would; `${NAME:?message}` → the generated stand-in
 * for NAME, or a URL-safe `secret` (a password pasted into a URL).
 */
const interpolate = (value: string) =>
  String(value).replace(/\$\{([A-Z0-9_]+)(?::?([?-])([^}]*))?\}/g, (_, name: string, op, arg) =>
    op === '-' ? arg : (STAND_INS[name] ?? 'secret'),
  );

const PLACEHOLDER = /^(\$\{[A-Z0-9_]+(:?[?-][^}]*)?\}|REPLACE_ME)$/;

/** Credentials written in `text` that are neither a `${VAR}` reference nor a placeholder. */
function committedCredentials(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:(\$\{[^}]*\}|[^\s@'"]+)@/gi)) {
    if (!PLACEHOLDER.test(m[1])) found.push(m[0]);
  }
  // Env-style keys (POSTGRES_PASSWORD, JWT_SECRET, API_TOKEN, DATA_ENCRYPTION_KEYS) and any
  // `password` key, same line only.
  const keyed =
    /^[ \t]*-?[ \t]*(\w*(?:PASSWORD|SECRET|TOKEN|[Pp]assword)\w*|\w*_KEYS?)[ \t]*[:=][ \t]*['"]?(\$\{[^}]*\}|[^'"\s#]*)/gm;
  for (const m of text.matchAll(keyed)) if (m[2] && !PLACEHOLDER.test(m[2])) found.push(m[0].trim());
  for (const m of text.matchAll(/\bPASSWORD\s+'[^']*'/gi)) found.push(m[0]);
  return found;
}

describe('deployment files in docker/', () => {
  it('parse as YAML without errors or warnings', () => {
    expect(yamlFiles.map((f) => relative(DOCKER, f)).sort()).toEqual(
      expect.arrayContaining(['docker-compose.yml', 'k8s/api-deployment.yaml', 'k8s/worker-deployment.yaml']),
    );
    for (const file of yamlFiles) {
      const docs = parse(file);
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect({ file, errors: doc.errors.map(String) }).toEqual({ file, errors: [] });
        expect({ file, warnings: doc.warnings.map(String) }).toEqual({ file, warnings: [] });
      }
    }
  });

  it('give every Kubernetes object an apiVersion, kind and name, with stable workload APIs', () => {
    expect(k8s.length).toBeGreaterThanOrEqual(7);
    for (const o of k8s) {
      expect(o).toEqual(expect.objectContaining({ apiVersion: expect.any(String), kind: expect.any(String) }));
      expect(o.metadata?.name).toMatch(/^[a-z0-9-]+$/);
      const api = { Deployment: 'apps/v1', Job: 'batch/v1', CronJob: 'batch/v1' }[o.kind as string];
      if (api) expect(`${o.kind} ${o.apiVersion}`).toBe(`${o.kind} ${api}`);
    }
  });

  it('probe the api on port 3000 and the worker on its health port 3001', () => {
    const [api] = containersOf(find('Deployment', 'calmops-api'));
    expect(api.args).toEqual(['api']);
    expect(probe(api, 'livenessProbe')).toEqual({ path: '/health/live', port: 3000 });
    expect(probe(api, 'readinessProbe')).toEqual({ path: '/health/ready', port: 3000 });
    expect(probe(api, 'startupProbe')).toEqual({ path: '/health/live', port: 3000 });

    const [worker] = containersOf(find('Deployment', 'calmops-worker'));
    expect(worker.args).toEqual(['worker']);
    expect(worker.ports).toEqual([{ name: 'health', containerPort: 3001 }]);
    expect(probe(worker, 'livenessProbe')).toEqual({ path: '/health/live', port: 3001 });
    expect(probe(worker, 'readinessProbe')).toEqual({ path: '/health/ready', port: 3001 });
    expect(probe(worker, 'startupProbe')).toEqual({ path: '/health/live', port: 3001 });
  });

  it('route the api Service to the api pods on port 3000', () => {
    const deployment = find('Deployment', 'calmops-api');
    const service = find('Service', 'calmops-api');
    const labels = podTemplate(deployment)?.metadata?.labels;
    expect(labels).toEqual(expect.objectContaining(deployment.spec?.selector?.matchLabels));
    expect(labels).toEqual(expect.objectContaining(service.spec?.selector));
    const [api] = containersOf(deployment);
    const target = service.spec?.ports?.[0].targetPort;
    expect(typeof target === 'string' ? api.ports?.find((p) => p.name === target)?.containerPort : target).toBe(3000);
  });

  it('run every container as non-root, unprivileged, read-only and with resources set', () => {
    expect(workloads.length).toBeGreaterThanOrEqual(4);
    for (const w of workloads) {
      const pod = podTemplate(w)!.spec;
      expect({ name: w.metadata.name, runAsNonRoot: pod.securityContext?.runAsNonRoot }).toEqual({
        name: w.metadata.name,
        runAsNonRoot: true,
      });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext).toEqual(
          expect.objectContaining({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true }),
        );
        expect(c.securityContext?.runAsUser ?? 1).toBeGreaterThan(0);
        expect(Object.keys(c.resources?.requests ?? {})).toEqual(expect.arrayContaining(['cpu', 'memory']));
        expect(Object.keys(c.resources?.limits ?? {})).toContain('memory');
      }
    }
  });

  it('give pods and compose services more time to stop than the app takes to drain', () => {
    const drainMs = Number(configMap.data?.SHUTDOWN_DELAY_MS) + Number(configMap.data?.SHUTDOWN_TIMEOUT_MS);
    expect(drainMs).toBeGreaterThanOrEqual(30000);
    for (const d of k8s.filter((o) => o.kind === 'Deployment')) {
      expect((podTemplate(d)!.spec.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(drainMs);
    }
    for (const [, s] of appServices) expect(parseInt(s.stop_grace_period ?? '10', 10) * 1000).toBeGreaterThan(drainMs);
  });

  it('run migrations in a Job and maintenance as a non-overlapping CronJob', () => {
    const job = find('Job', 'calmops-migrate');
    const [migrate] = containersOf(job);
    expect(migrate.args).toEqual(['task', 'migrate']);
    expect(job.spec?.backoffLimit).toBeGreaterThanOrEqual(1);
    expect(migrate.env).toContainEqual({
      name: 'DATABASE_ADMIN_URL',
      valueFrom: { secretKeyRef: { name: 'calmops-secrets', key: 'DATABASE_ADMIN_URL' } },
    });
    const cron = find('CronJob', 'calmops-session-cleanup');
    expect(cron.spec).toEqual(expect.objectContaining({ schedule: '*/5 * * * *', concurrencyPolicy: 'Forbid' }));
    expect(containersOf(cron)[0].args).toEqual(['task', 'session-cleanup']);
  });

  it('use only variables the app reads, and give every container a valid production config', () => {
    const names = [
      ...Object.keys(configMap.data ?? {}),
      ...Object.keys(secret.stringData ?? {}),
      ...workloads.flatMap((w) => containersOf(w).flatMap((c) => (c.env ?? []).map((e) => e.name))),
      ...appServices.flatMap(([, s]) => Object.keys(s.environment ?? {})),
    ];
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(ENV_NAMES).toContain(name);
    // A worker's heap is bounded below its pod's memory limit (V8 sizes it from the node otherwise).
    const worker = find('Deployment', 'calmops-worker');
    for (const c of containersOf(worker)) {
      const heap = /--max-old-space-size=(\d+)/.exec(containerEnv(c).NODE_OPTIONS ?? '');
      expect(heap).not.toBeNull();
      expect(Number(heap![1]) * 2 ** 20).toBeLessThan(parseMemory(c.resources?.limits?.memory));
    }

    for (const w of workloads) {
      for (const c of containersOf(w)) {
        const env = containerEnv(c);
        expect(env.NODE_ENV).toBe('production');
        expect(() => AppConfig.load(env)).not.toThrow();
      }
    }
    for (const [name, s] of appServices) {
      const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(v)]));
      expect({ name, NODE_ENV: env.NODE_ENV }).toEqual({ name, NODE_ENV: 'production' });
      expect(() => AppConfig.load(env)).not.toThrow();
    }
  });

  it('take JWT settings from a JWKS in Kubernetes and the encryption keys from the Secret only', () => {
    expect(configMap.data).toEqual(
      expect.objectContaining({
        JWT_JWKS_URL: expect.stringMatching(/^https:\/\//),
        JWT_ISSUER: expect.any(String),
        JWT_AUDIENCE: expect.any(String),
      }),
    );
    for (const name of ['JWT_SECRET', 'DATA_ENCRYPTION_KEYS'])
      expect(Object.keys(configMap.data ?? {})).not.toContain(name);
    expect(secret.stringData?.DATA_ENCRYPTION_KEYS).toBe('REPLACE_ME');
    for (const w of workloads) {
      for (const c of containersOf(w)) {
        expect({ container: c.name, env: c.env }).toEqual({
          container: c.name,
          env: expect.arrayContaining([
            {
              name: 'DATA_ENCRYPTION_KEYS',
              valueFrom: { secretKeyRef: { name: 'calmops-secrets', key: 'DATA_ENCRYPTION_KEYS' } },
            },
          ]),
        });
      }
    }
    // compose: required from the shell or docker/.env, with no default that could ship.
    for (const [name, s] of appServices) {
      for (const key of ['JWT_SECRET', 'DATA_ENCRYPTION_KEYS']) {
        expect({ name, key, value: s.environment?.[key] }).toEqual({
          name,
          key,
          value: expect.stringMatching(new RegExp(`^\\$\\{${key}:\\?[^}]+\\}$`)),
        });
      }
    }
  });

  it('hand the owner URL (DATABASE_ADMIN_URL) to the migration only', () => {
    const holders = [
      ...workloads.filter((w) => containersOf(w).some((c) => 'DATABASE_ADMIN_URL' in containerEnv(c))),
      ...appServices.filter(([, s]) => 'DATABASE_ADMIN_URL' in (s.environment ?? {})),
    ].map((x) => (Array.isArray(x) ? `compose:${x[0]}` : `k8s:${x.metadata.name}`));
    expect(holders.sort()).toEqual(['compose:migrate', 'k8s:calmops-migrate']);
  });

  it('start compose in order: postgres healthy, then migrate, then api and worker', () => {
    const { postgres, migrate, api, worker } = compose.services;
    expect(postgres.image).toMatch(/^postgres:18/);
    expect(postgres.healthcheck?.test).toContain('pg_isready');
    expect(migrate.command).toEqual(['task', 'migrate']);
    expect(migrate.restart).toBe('no');
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const s of [api, worker])
      expect(s.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(api.command).toEqual(['api']);
    expect(api.ports).toContain('3000:3000');
    expect(worker.command).toEqual(['worker']);
  });

  it('create the database roles in postgres-init.sql as libs/database/database-roles.ts does', () => {
    const sql = read(join(DOCKER, 'postgres-init.sql'));
    const roles = Object.fromEntries(
      [...sql.matchAll(/^CREATE ROLE (\w+) ([^;]*);/gm)].map((m) => [m[1], m[2].split(/\s+/)]),
    );
    expect(Object.keys(roles).sort()).toEqual(Object.values(DB_ROLES).sort());
    expect(roles[DB_ROLES.owner]).toEqual(expect.arrayContaining(['LOGIN', 'CREATEROLE']));
    expect(roles[DB_ROLES.runtimeGroup]).toEqual(expect.arrayContaining(['NOLOGIN', 'NOBYPASSRLS']));
    expect(roles[DB_ROLES.systemGroup]).toContain('NOLOGIN');
    expect(roles[DB_ROLES.runtimeLogin]).toEqual(expect.arrayContaining(['LOGIN', 'NOBYPASSRLS']));
    expect(roles[DB_ROLES.systemLogin]).toEqual(expect.arrayContaining(['LOGIN', 'BYPASSRLS']));
    expect(sql).toContain(`GRANT ${DB_ROLES.runtimeGroup} TO ${DB_ROLES.runtimeLogin};`);
    expect(sql).toContain(`GRANT ${DB_ROLES.systemGroup} TO ${DB_ROLES.systemLogin};`);
    expect(sql).toMatch(new RegExp(`CREATE DATABASE calmops OWNER ${DB_ROLES.owner}\\b`));
    expect(sql).toContain(`GRANT CREATE ON DATABASE calmops TO ${DB_ROLES.systemLogin};`);
    // Each password the script reads must be passed to the postgres container.
    const wanted = [...sql.matchAll(/^\\getenv \w+ (\w+)$/gm)].map((m) => m[1]);
    expect(wanted).toHaveLength(3);
    for (const name of wanted) expect(Object.keys(compose.services.postgres.environment ?? {})).toContain(name);
  });

  it('build a non-root image whose entrypoint is the compiled main', () => {
    const text = read(join(DOCKER, 'Dockerfile'));
    const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    const finalStage = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
    const instr = (name: string) =>
      finalStage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
    const user = instr('USER').pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(JSON.parse(instr('ENTRYPOINT').pop() ?? 'null')).toEqual(['node', 'dist/src/main.js']);
    expect(JSON.parse(instr('CMD').pop() ?? 'null')).toEqual(['api']);
    expect(instr('ENV')).toContain('NODE_ENV=production');
    expect(instr('EXPOSE').join(' ').split(/\s+/)).toEqual(expect.arrayContaining(['3000', '3001']));
    expect(text).toMatch(/npm ci\b/);
    expect(text).toMatch(/npm run build\b/);
    expect(text).toMatch(/npm prune --omit=dev\b/);
    const ignored = read(join(ROOT, '.dockerignore')).split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.data', '.env']));
  });

  it('build on Node 24 LTS, the version CI also tests on (Node 20 is past its end of life)', () => {
    const dockerfile = read(join(DOCKER, 'Dockerfile'));
    expect(/^ARG NODE_VERSION=(\d+)$/m.exec(dockerfile)?.[1]).toBe('24');
    const stages = dockerfile.split('\n').filter((l) => /^FROM\s/i.test(l));
    expect(stages.length).toBeGreaterThan(1);
    // Every stage starts from the Node image of that version, or from an earlier stage.
    for (const from of stages) expect(from).toMatch(/^FROM (node:\$\{NODE_VERSION\}-\S+|deps|build) /);
    const ci = read(join(ROOT, '.ci', 'run'));
    expect(/^NODE24_VERSION=(\d+)\.\d+\.\d+$/m.exec(ci)?.[1]).toBe('24');
    expect(ci).toMatch(/PATH="\$\{PWD\}\/\$\{node24\}\/bin:\$\{PATH\}" npm test/);
    const engines = (JSON.parse(read(join(ROOT, 'package.json'))) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('>=20.19');
  });

  it('commit no credentials, only ${VAR} references and REPLACE_ME placeholders', () => {
    expect(committedCredentials('DATABASE_URL: postgres://app:hunter2@db:5432/calmops')).toHaveLength(1);
    expect(committedCredentials('  POSTGRES_PASSWORD: hunter2')).toHaveLength(1);
    expect(committedCredentials("CREATE ROLE x LOGIN PASSWORD 'hunter2';")).toHaveLength(1);
    expect(committedCredentials('postgres://app:${APP_PW:?set APP_PW}@db/calmops REPLACE_ME')).toEqual([]);
    expect(committedCredentials(`  JWT_SECRET: ${STAND_INS.JWT_SECRET}`)).toHaveLength(1);
    expect(committedCredentials(`  DATA_ENCRYPTION_KEYS: ${STAND_INS.DATA_ENCRYPTION_KEYS}`)).toHaveLength(1);
    expect(committedCredentials(`DATA_ENCRYPTION_KEYS=${STAND_INS.DATA_ENCRYPTION_KEYS}`)).toHaveLength(1);
    expect(committedCredentials('  DATA_ENCRYPTION_KEYS: REPLACE_ME')).toEqual([]);
    expect(committedCredentials('  JWT_SECRET: ${JWT_SECRET:?set JWT_SECRET}')).toEqual([]);
    expect(committedCredentials("  API_KEY_CACHE_TTL_MS: '5000'")).toEqual([]);

    const files = [...walk(DOCKER), join(ROOT, '.dockerignore')];
    const leaks = files.flatMap((f) => committedCredentials(read(f)).map((c) => `${relative(ROOT, f)}: ${c}`));
    expect(leaks).toEqual([]);
    expect(Object.values(secret.stringData ?? {}).every((v) => v.includes('REPLACE_ME'))).toBe(true);
    expect(secret.data).toBeUndefined();
  });
});
