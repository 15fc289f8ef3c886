import {
  parseBoolean,
  parseByteSize,
  parseDecimalString,
  parseDurationList,
  parseEnum,
  parseHttpUrl,
  isChatWebhookUrl,
  parseInteger,
  parseJsonObject,
  parseOrigins,
  parsePostgresUrl,
  parseSecret,
  parseTrustProxy,
} from './env-parsers';
import { parseKeyring } from './keyring';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export const LLM_PROVIDERS = ['rules', 'anthropic'] as const;

type Env = Record<string, string | undefined>;

interface VariableSpec<T> {
  /** What the variable means; mirrored in .env.example. */
  description: string;
  /** Default as the raw string, or a function of NODE_ENV when production differs. */
  default?: string | ((production: boolean) => string | undefined);
  parse: (raw: string) => T;
  /** Required when NODE_ENV=production. */
  requiredInProduction?: boolean;
}

function spec<T>(s: VariableSpec<T>): VariableSpec<T> {
  return s;
}

/**
 * Every environment variable CalmOps reads. `.env.example` lists each one (a unit test keeps
 * the two in step), so this table is the single place to add a setting.
 */
export const ENV_SPEC = {
  NODE_ENV: spec({
    description: 'development | production | test. production tightens defaults.',
    default: 'development',
    parse: parseEnum(NODE_ENVS),
  }),
  PORT: spec({ description: 'HTTP port of the api role.', default: '3000', parse: parseInteger(1, 65535) }),
  HOST: spec({ description: 'Interface the HTTP servers bind to.', default: '0.0.0.0', parse: (v) => v }),
  HEALTH_PORT: spec({
    description: 'Port of the worker role probe listener (/health/live, /health/ready only).',
    default: '3001',
    parse: parseInteger(1, 65535),
  }),
  DATABASE_URL: spec({
    description: 'Runtime role (not owner, no BYPASSRLS). Unset: embedded PostgreSQL is started.',
    parse: parsePostgresUrl,
    requiredInProduction: true,
  }),
  DATABASE_ADMIN_URL: spec({
    description: 'Owner role that runs migrations (task migrate). Defaults to DATABASE_URL.',
    parse: parsePostgresUrl,
  }),
  DATABASE_SYSTEM_URL: spec({
    description: 'System role for cross-tenant work (queue, dispatchers, sweepers); has BYPASSRLS.',
    parse: parsePostgresUrl,
    requiredInProduction: true,
  }),
  DATABASE_DIRECT_URL: spec({
    description:
      'Direct (not pooled) URL of the system role, for the work that needs a session: LISTEN and pg-boss. Set it when DATABASE_URL and DATABASE_SYSTEM_URL go through PgBouncer in transaction mode. Defaults to DATABASE_SYSTEM_URL.',
    parse: parsePostgresUrl,
  }),
  DATABASE_POOL_SIZE: spec({
    description: 'Connections per pool (runtime and system pools each).',
    default: '10',
    parse: parseInteger(1, 200),
  }),
  DATABASE_CONNECT_TIMEOUT_MS: spec({
    description: 'Timeout to open one database connection.',
    default: '5000',
    parse: parseInteger(100, 120000),
  }),
  EMBEDDED_PG_PORT: spec({
    description: 'Port of the embedded PostgreSQL (used only when DATABASE_URL is unset).',
    default: '5433',
    parse: parseInteger(1024, 65535),
  }),
  DATA_DIR: spec({
    description: 'Local state: embedded PostgreSQL data, generated dev secrets, demo credentials.',
    default: '.data',
    parse: (v) => v,
  }),
  LOG_LEVEL: spec({ description: 'Log level.', default: 'info', parse: parseEnum(LOG_LEVELS) }),
  LOG_FORMAT: spec({
    description:
      'Log lines as JSON (json), as short human-readable lines (pretty), or pretty on a terminal and JSON otherwise (auto).',
    default: 'auto',
    parse: parseEnum(LOG_FORMATS),
  }),
  TRUST_PROXY: spec({
    description:
      'Which proxies may set X-Forwarded-For (client IP for rate limits): false, a hop count, or Express names/CIDRs like "uniquelocal".',
    default: 'false',
    parse: parseTrustProxy,
  }),
  HTTP_BODY_LIMIT: spec({
    description: 'Largest accepted request body (e.g. 1mb, 512kb); larger bodies get 413.',
    default: '1mb',
    parse: parseByteSize,
  }),
  CORS_ORIGINS: spec({
    description: 'Comma-separated allowed origins; "*" is refused in production.',
    default: (production) => (production ? undefined : '*'),
    parse: parseOrigins,
    requiredInProduction: true,
  }),
  SWAGGER_ENABLED: spec({
    description: 'Serve Swagger UI at /docs and JSON at /docs-json.',
    default: (production) => (production ? 'false' : 'true'),
    parse: parseBoolean,
  }),
  SHUTDOWN_DELAY_MS: spec({
    description: 'After SIGTERM, keep serving (readiness 503) this long so load balancers notice.',
    default: (production) => (production ? '5000' : '0'),
    parse: parseInteger(0, 120000),
  }),
  SHUTDOWN_TIMEOUT_MS: spec({
    description: 'Bound on draining requests and running jobs during shutdown.',
    default: '25000',
    parse: parseInteger(1000, 600000),
  }),
  READINESS_CACHE_MS: spec({
    description: 'How long a readiness result is reused so probes cannot hammer the database.',
    default: '1000',
    parse: parseInteger(0, 1000),
  }),
  HEALTH_DB_TIMEOUT_MS: spec({
    description: 'Timeout of the readiness database check.',
    default: '1000',
    parse: parseInteger(50, 10000),
  }),
  WORKER_HEARTBEAT_INTERVAL_MS: spec({
    description: 'How often each process upserts its row in worker_heartbeats.',
    default: '10000',
    parse: parseInteger(100, 600000),
  }),
  EVENTS_RELAY_INTERVAL_MS: spec({
    description: 'Poll interval of the domain-event outbox relay (it is also woken by NOTIFY).',
    default: '1000',
    parse: parseInteger(50, 60000),
  }),
  JWT_SECRET: spec({
    description: 'HS256 secret for bearer tokens (>= 32 chars). Generated into DATA_DIR in development.',
    parse: parseSecret(32),
  }),
  JWT_JWKS_URL: spec({
    description: 'JWKS endpoint for RS256/ES256 tokens (production identity provider). Enables JWKS mode.',
    parse: parseHttpUrl,
  }),
  JWT_ISSUER: spec({ description: 'Required `iss` of bearer tokens (required with JWT_JWKS_URL).', parse: (v) => v }),
  JWT_AUDIENCE: spec({ description: 'Required `aud` of bearer tokens (required with JWT_JWKS_URL).', parse: (v) => v }),
  JWKS_MIN_REFRESH_INTERVAL_MS: spec({
    description: 'An unknown `kid` refetches the JWKS at most this often.',
    default: '30000',
    parse: parseInteger(1000, 3600000),
  }),
  DATA_ENCRYPTION_KEYS: spec({
    description:
      'Comma-separated kid:base64(32 bytes) keys; the first encrypts, all decrypt. Generated in development.',
    parse: (v) => {
      parseKeyring(v);
      return v.trim();
    },
    requiredInProduction: true,
  }),
  API_KEY_CACHE_TTL_MS: spec({
    description: 'How long a verified API key is cached per process; bounds how late a revocation is seen elsewhere.',
    default: '5000',
    parse: parseInteger(0, 5000),
  }),
  RATE_LIMIT_IP_PER_15_MIN: spec({
    description: 'Requests per IP per 15 minutes without valid credentials.',
    default: '100',
    parse: parseInteger(1, 10_000_000),
  }),
  RATE_LIMIT_FLUSH_MS: spec({
    description:
      "How often each process adds the requests it counted to the shared rate-limit counters (and reads the others'); " +
      'with several replicas a limit can be overshot by what the other replicas admit in one such window.',
    default: '1000',
    parse: parseInteger(10, 1000),
  }),
  RATE_LIMIT_FREE_PER_HOUR: spec({
    description: 'Requests per org per hour on the free plan.',
    default: '1000',
    parse: parseInteger(1, 100_000_000),
  }),
  RATE_LIMIT_PRO_PER_HOUR: spec({
    description: 'Requests per org per hour on the pro plan.',
    default: '10000',
    parse: parseInteger(1, 100_000_000),
  }),
  RATE_LIMIT_ENTERPRISE_PER_HOUR: spec({
    description: 'Requests per org per hour on the enterprise plan.',
    default: '100000',
    parse: parseInteger(1, 100_000_000),
  }),
  PAYROLL_MAX_CONCURRENT: spec({
    description: 'Payroll runs running at once across all workers (enforced by the database).',
    default: '2',
    parse: parseInteger(1, 64),
  }),
  PAYROLL_POLL_INTERVAL_MS: spec({
    description: 'How often the payroll dispatcher looks for queued runs (it is also woken by NOTIFY).',
    default: '5000',
    parse: parseInteger(50, 600000),
  }),
  PAYROLL_CHECKPOINT_EVERY: spec({
    description: 'Tickets per checkpoint: their lines and the cursor commit together.',
    default: '10',
    parse: parseInteger(1, 10000),
  }),
  PAYROLL_LEASE_SECONDS: spec({
    description: 'A running run whose worker stops renewing its lease for this long goes back to the queue.',
    default: '30',
    parse: parseInteger(2, 3600),
  }),
  PAYROLL_RETRY_BASE_MS: spec({
    description: 'First retry delay of a failed payroll attempt (exponential with jitter).',
    default: '5000',
    parse: parseInteger(10, 3600000),
  }),
  PAYROLL_RETRY_CAP_MS: spec({
    description: 'Longest retry delay of a payroll attempt.',
    default: '300000',
    parse: parseInteger(10, 86400000),
  }),
  PAYROLL_MAX_ATTEMPTS: spec({
    description: 'Attempts before a payroll run is marked failed.',
    default: '5',
    parse: parseInteger(1, 100),
  }),
  PAYROLL_MAX_RSS_MB: spec({
    description: 'Health gate: no new payroll run starts while the worker RSS is above this.',
    default: '1024',
    parse: parseInteger(1, 1048576),
  }),
  PAYROLL_MIN_FREE_DISK_MB: spec({
    description: 'Health gate: no new payroll run starts while the data directory has less free disk.',
    default: '512',
    parse: parseInteger(0, 104857600),
  }),
  SESSION_ROUTABLE_HEARTBEAT_SECONDS: spec({
    description: 'An agent whose last heartbeat is older than this is not routable (presence "stale").',
    default: '45',
    parse: parseInteger(1, 3600),
  }),
  SESSION_OFFLINE_AFTER_SECONDS: spec({
    description: 'The sweeper takes an agent offline after this long without a heartbeat (unless on a live call).',
    default: '120',
    parse: parseInteger(1, 86400),
  }),
  SESSION_ABANDON_AFTER_SECONDS: spec({
    description: 'An open session without a heartbeat for this long is closed as abandoned.',
    default: '7200',
    parse: parseInteger(1, 604800),
  }),
  SESSION_CLEANUP_INTERVAL_SECONDS: spec({
    description: 'How often the session sweeper runs (once per tick across all workers).',
    default: '30',
    parse: parseInteger(1, 3600),
  }),
  CALL_OFFER_TIMEOUT_SECONDS: spec({
    description: 'A ringing call not answered within this is offered to the next agent.',
    default: '20',
    parse: parseInteger(1, 600),
  }),
  CALL_MISSED_OFFER_COOLDOWN_SECONDS: spec({
    description: 'An agent who missed an offer is not offered a call again for this long.',
    default: '30',
    parse: parseInteger(0, 3600),
  }),
  SESSION_WAKE_INTERVAL_MS: spec({
    description:
      'How often workers look for agents that became routable by time alone (wrap-up or missed-offer cooldown over) and offer them queued calls; bounds how late such an offer is.',
    default: '250',
    parse: parseInteger(50, 10000),
  }),
  WEBHOOKS_ALLOW_HTTP: spec({
    description: 'Allow plain http:// webhook endpoints (production requires https unless true).',
    default: (production) => (production ? 'false' : 'true'),
    parse: parseBoolean,
  }),
  WEBHOOKS_ALLOW_PRIVATE_TARGETS: spec({
    description:
      'Allow loopback webhook targets (127.0.0.0/8, ::1, localhost): a receiver on your own machine, for development and tests. Link-local, cloud metadata and private addresses stay refused.',
    default: 'false',
    parse: parseBoolean,
  }),
  WEBHOOK_RETRY_SCHEDULE: spec({
    description: 'Delays between delivery attempts after the first (s/m/h units); its length bounds the attempts.',
    default: '5s,5m,30m,2h,5h,10h,10h',
    parse: parseDurationList,
  }),
  WEBHOOK_RETRY_JITTER: spec({
    description: 'Random spread of each retry delay, as a fraction (0.2 = ±20 %).',
    default: '0.2',
    parse: (raw) => {
      const v = Number(raw);
      if (!Number.isFinite(v) || v < 0 || v > 1) throw new Error('must be a number between 0 and 1');
      return v;
    },
  }),
  WEBHOOK_TIMEOUT_MS: spec({
    description: 'Timeout of one delivery attempt.',
    default: '15000',
    parse: parseInteger(100, 120000),
  }),
  WEBHOOK_RETRY_AFTER_CAP_SECONDS: spec({
    description: 'Longest Retry-After (on 429/503) that is honoured.',
    default: '3600',
    parse: parseInteger(1, 86400),
  }),
  WEBHOOK_BREAKER_FAILURES: spec({
    description: "Consecutive failures that open an endpoint's circuit breaker.",
    default: '3',
    parse: parseInteger(1, 100),
  }),
  WEBHOOK_BREAKER_COOLDOWN_SECONDS: spec({
    description: 'How long an open breaker waits before one probe delivery.',
    default: '30',
    parse: parseInteger(1, 86400),
  }),
  WEBHOOK_DISABLE_AFTER_HOURS: spec({
    description: 'An endpoint whose deliveries all failed for this long is disabled (any success resets).',
    default: '120',
    parse: (raw) => {
      const v = Number(raw);
      if (!Number.isFinite(v) || v <= 0 || v > 8760) throw new Error('must be a number of hours between 0 and 8760');
      return v;
    },
  }),
  WEBHOOK_DEDUP_RETENTION_HOURS: spec({
    description: 'Inbound dedup rows are kept this long (providers such as Stripe retry for up to 3 days).',
    default: '72',
    parse: parseInteger(1, 8760),
  }),
  WEBHOOK_LOG_RETENTION_DAYS: spec({
    description: 'Delivery attempt log rows are kept this long.',
    default: '7',
    parse: parseInteger(1, 3650),
  }),
  WEBHOOK_INBOUND_TOLERANCE_SECONDS: spec({
    description: 'Inbound Standard Webhooks timestamps older or newer than this are refused.',
    default: '300',
    parse: parseInteger(1, 3600),
  }),
  HEALTH_SAMPLE_SECONDS: spec({
    description:
      'How often each process records its health samples, and the workers evaluate the incident rules (once per tick across replicas).',
    default: '15',
    parse: parseInteger(1, 3600),
  }),
  HEALTH_DISK_PATH: spec({
    description: 'Where disk_used_percent is measured (statfs); default: DATA_DIR.',
    parse: (raw) => raw,
  }),
  INCIDENT_THRESHOLDS: spec({
    description:
      'Overrides of the incident rules, as JSON: {"<signal>": {"warning", "critical", "for_seconds", "keep_firing_for_seconds"}}. GET /api/ops/rules shows the rules in force.',
    default: '{}',
    parse: parseJsonObject,
  }),
  APPROVAL_TTL_HOURS: spec({
    description:
      'How long an assistant agent’s drafted action waits for a human decision before it expires (and is escalated).',
    default: '72',
    parse: parseInteger(1, 8760),
  }),
  LLM_PROVIDER: spec({
    description:
      'What writes assistant agents’ answers: rules (offline, deterministic) or anthropic (a model behind our retry policy and breaker, falling back to rules).',
    default: 'rules',
    parse: parseEnum(LLM_PROVIDERS),
  }),
  ANTHROPIC_API_KEY: spec({
    description: 'API key of the anthropic provider (required with LLM_PROVIDER=anthropic; never commit it).',
    parse: parseSecret(8),
  }),
  ANTHROPIC_MODEL: spec({
    description: 'Model of the anthropic provider.',
    default: 'claude-sonnet-4-5',
    parse: (v) => v,
  }),
  ANTHROPIC_BASE_URL: spec({ description: 'Base URL of the Anthropic API (a proxy or gateway).', parse: parseHttpUrl }),
  LLM_TIMEOUT_MS: spec({
    description: 'Timeout of one model request.',
    default: '30000',
    parse: parseInteger(100, 600000),
  }),
  LLM_RETRY_BASE_MS: spec({
    description: 'First retry delay of model calls; later ones double (1-2-4-8 s at 1000), ±20 % jitter, 4 retries.',
    default: '1000',
    parse: parseInteger(1, 60000),
  }),
  LLM_RETRY_AFTER_CAP_SECONDS: spec({
    description: 'The longest retry-after / retry-after-ms from the model API that is honoured.',
    default: '60',
    parse: parseInteger(1, 3600),
  }),
  LLM_BREAKER_FAILURES: spec({
    description: 'Consecutive failed model calls that open its breaker (agents then answer with the rules provider).',
    default: '5',
    parse: parseInteger(1, 1000),
  }),
  LLM_BREAKER_COOLDOWN_SECONDS: spec({
    description: 'How long the model breaker stays open before one probe.',
    default: '60',
    parse: parseInteger(1, 86400),
  }),
  LLM_PRICE_INPUT_USD_PER_MTOK: spec({
    description: 'Price of a million input tokens, for the cost recorded per conversation.',
    default: '3',
    parse: parseDecimalString,
  }),
  LLM_PRICE_OUTPUT_USD_PER_MTOK: spec({
    description: 'Price of a million output tokens.',
    default: '15',
    parse: parseDecimalString,
  }),
  WORKFLOW_MAX_STEPS: spec({
    description: 'The most steps a workflow may take (a longer one is refused with 400 when created).',
    default: '50',
    parse: parseInteger(1, 1000),
  }),
  WORKFLOW_MAX_CONCURRENT_PER_ORG: spec({
    description: 'Workflows running at once per org; more wait queued until one ends.',
    default: '5',
    parse: parseInteger(1, 1000),
  }),
  WORKFLOW_STEP_TIMEOUT_MS: spec({
    description: 'The longest one workflow step may take before it is failed (and retried).',
    default: '30000',
    parse: parseInteger(100, 600000),
  }),
  WORKFLOW_LEASE_SECONDS: spec({
    description: 'How long a worker holds a workflow without finishing a step before another may take it over.',
    default: '30',
    parse: parseInteger(2, 3600),
  }),
  OPS_ALERT_WEBHOOK_URLS: spec({
    description:
      'Comma-separated operator alert channels: Slack or Discord incoming-webhook URLs get a chat message, any other URL a Standard Webhooks body signed with OPS_ALERT_WEBHOOK_SECRET.',
    default: '',
    parse: (raw) =>
      raw
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean)
        .map(parseHttpUrl),
  }),
  OPS_ALERT_WEBHOOK_SECRET: spec({
    description: 'whsec_ secret that signs operator alerts to non-chat URLs (generate one; never commit it).',
    parse: (raw) => {
      if (!/^whsec_[A-Za-z0-9+/=]{32,}$/.test(raw))
        throw new Error('must be whsec_ followed by base64 of a random key');
      return raw;
    },
  }),
  QUEUE_POLL_INTERVAL_SECONDS: spec({
    description: 'pg-boss fetch interval of queue workers.',
    default: '1',
    parse: (raw) => {
      const v = Number(raw);
      if (!Number.isFinite(v) || v < 0.5 || v > 60) throw new Error('must be a number of seconds between 0.5 and 60');
      return v;
    },
  }),
  QUEUE_MAINTENANCE_INTERVAL_SECONDS: spec({
    description:
      "How often pg-boss's maintenance runs in workers: it takes back the jobs of a killed worker once they expire (each queue's expireInSeconds), and archives finished ones.",
    default: '30',
    parse: parseInteger(1, 3600),
  }),
  METRICS_TOKEN: spec({
    description:
      'Bearer token that reads /metrics and readiness details (>= 32 chars). Unset: open outside production, closed in production.',
    parse: parseSecret(32),
  }),
  BACKUP_TARGET: spec({
    description:
      'Where database backups go (e.g. s3://bucket/calmops, pgbackrest stanza main), as the readiness report shows it; never credentials. Production: the report fails without it.',
    parse: (raw) => {
      const v = raw.trim();
      if (v.length > 500) throw new Error('must be at most 500 characters');
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(v)) throw new Error('must not contain credentials');
      return v;
    },
  }),
  BACKUP_MAX_AGE_HOURS: spec({
    description:
      'The newest backup reported through POST /api/ops/backups must be younger than this, or the readiness report fails.',
    default: '26',
    parse: parseInteger(1, 8760),
  }),
  READINESS_MIN_FREE_DISK_MB: spec({
    description:
      'Free disk below this (at HEALTH_DISK_PATH or DATA_DIR) fails the readiness report; below twice this it warns.',
    default: '1024',
    parse: parseInteger(1, 100_000_000),
  }),
  READINESS_MIN_FREE_MEMORY_MB: spec({
    description:
      'Memory still available to the process (container limit, else the host) below this fails the readiness report; below twice this it warns.',
    default: '128',
    parse: parseInteger(1, 100_000_000),
  }),
} as const;

export type EnvName = keyof typeof ENV_SPEC;
type Parsed<K extends EnvName> = ReturnType<(typeof ENV_SPEC)[K]['parse']>;
/** Variables that may stay unset after validation; every other one has a default. */
type OptionalName =
  | 'DATABASE_URL'
  | 'DATABASE_ADMIN_URL'
  | 'DATABASE_SYSTEM_URL'
  | 'DATABASE_DIRECT_URL'
  | 'JWT_SECRET'
  | 'HEALTH_DISK_PATH'
  | 'BACKUP_TARGET'
  | 'METRICS_TOKEN'
  | 'OPS_ALERT_WEBHOOK_SECRET'
  | 'ANTHROPIC_API_KEY'
  | 'ANTHROPIC_BASE_URL'
  | 'JWT_JWKS_URL'
  | 'JWT_ISSUER'
  | 'JWT_AUDIENCE'
  | 'DATA_ENCRYPTION_KEYS';
type Values = { [K in EnvName]: K extends OptionalName ? Parsed<K> | undefined : Parsed<K> };

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Typed, validated configuration. Build it with `loadConfig(process.env)`. */
export class AppConfig {
  private constructor(private readonly values: Values) {}

  get<K extends EnvName>(name: K): Values[K] {
    return this.values[name];
  }

  get production(): boolean {
    return this.values.NODE_ENV === 'production';
  }

  /** True when no DATABASE_URL is given and the embedded PostgreSQL must be started. */
  get embeddedDatabase(): boolean {
    return !this.values.DATABASE_URL;
  }

  /**
   * Where session-bound work connects (LISTEN, pg-boss): DATABASE_DIRECT_URL when a pooler in
   * transaction mode sits in front of the database, else the system role's URL.
   */
  get sessionUrl(): string | undefined {
    return this.values.DATABASE_DIRECT_URL ?? this.values.DATABASE_SYSTEM_URL ?? this.values.DATABASE_URL;
  }

  /** A copy with some values replaced (used once the embedded database URLs are known). */
  with(overrides: Partial<Values>): AppConfig {
    return new AppConfig({ ...this.values, ...overrides });
  }

  static load(env: Env): AppConfig {
    const problems: string[] = [];
    const production = (env.NODE_ENV ?? '').trim() === 'production';
    const values: Record<string, unknown> = {};
    for (const [name, s] of Object.entries(ENV_SPEC) as [EnvName, VariableSpec<unknown>][]) {
      const given = env[name];
      const fallback = typeof s.default === 'function' ? s.default(production) : s.default;
      const raw = given !== undefined && given !== '' ? given : fallback;
      if (raw === undefined) {
        if (production && s.requiredInProduction) problems.push(`${name}: required when NODE_ENV=production`);
        values[name] = undefined;
        continue;
      }
      try {
        values[name] = s.parse(raw);
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    if (values.DATABASE_URL && !values.DATABASE_SYSTEM_URL) {
      // One message for the variable, the one that says what it needs.
      const generic = problems.indexOf('DATABASE_SYSTEM_URL: required when NODE_ENV=production');
      if (generic >= 0) problems.splice(generic, 1);
      problems.push(
        'DATABASE_SYSTEM_URL: required when DATABASE_URL is set (an external PostgreSQL): the login of the system ' +
          'role (member of calmops_system, with BYPASSRLS) runs cross-tenant work and owns the queue schema, so it ' +
          'needs GRANT CREATE ON DATABASE <database> (see docker/postgres-init.sql)',
      );
    }
    const alertUrls = (values.OPS_ALERT_WEBHOOK_URLS as string[] | undefined) ?? [];
    if (alertUrls.some((u) => !isChatWebhookUrl(u)) && !values.OPS_ALERT_WEBHOOK_SECRET) {
      problems.push(
        'OPS_ALERT_WEBHOOK_SECRET: required when OPS_ALERT_WEBHOOK_URLS names a URL that is not Slack or Discord',
      );
    }
    if (production && values.CORS_ORIGINS === '*') {
      problems.push('CORS_ORIGINS: must be an explicit list of origins when NODE_ENV=production, not "*"');
    }
    if (values.JWT_JWKS_URL && (!values.JWT_ISSUER || !values.JWT_AUDIENCE)) {
      problems.push('JWT_ISSUER and JWT_AUDIENCE: both are required when JWT_JWKS_URL is set');
    }
    if (values.LLM_PROVIDER === 'anthropic' && !values.ANTHROPIC_API_KEY) {
      problems.push('ANTHROPIC_API_KEY: required when LLM_PROVIDER=anthropic');
    }
    if (production && !values.JWT_JWKS_URL && !values.JWT_SECRET) {
      problems.push('JWT_SECRET or JWT_JWKS_URL: one is required when NODE_ENV=production');
    }
    if (problems.length) throw new ConfigValidationError(problems);
    return new AppConfig(values as Values);
  }
}
