import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { AppConfig, devSecretsFile, parseKeyring } from '../../libs/config';
import { Clock, ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome, CheckVerdict } from '../../libs/core';
import { memoryHeadroom } from '../../libs/observability';
import { nodeSupport } from './node-support';

/** The Node version the report judges (a token, so a test can judge another one). */
export const NODE_VERSION = Symbol('NODE_VERSION');

/** Passwords that ship in images, tutorials and defaults: never acceptable for a database role. */
const DEFAULT_PASSWORDS = new Set([
  'postgres',
  'password',
  'calmops',
  'calmops_app',
  'calmops_sys',
  'calmops_owner',
  'secret',
  'changeme',
  'admin',
  'root',
  'example',
  '123456',
]);
const MIN_PASSWORD_LENGTH = 16;
/** An HS256 secret estimated below this many bits of entropy is too weak to sign tokens. */
const MIN_SECRET_BITS = 128;
const MB = 1024 * 1024;

const worst = (verdicts: CheckVerdict[]): CheckVerdict =>
  verdicts.includes('fail') ? 'fail' : verdicts.includes('warn') ? 'warn' : 'pass';

/** Bits a random string of this length and these character classes would carry. */
export function estimatedBits(secret: string): number {
  let alphabet = 0;
  if (/[a-z]/.test(secret)) alphabet += 26;
  if (/[A-Z]/.test(secret)) alphabet += 26;
  if (/[0-9]/.test(secret)) alphabet += 10;
  if (/[^a-zA-Z0-9]/.test(secret)) alphabet += 32;
  return Math.floor(secret.length * Math.log2(Math.max(alphabet, 2)));
}

/**
 * What configuration makes of production, checked on the values this process runs with:
 * secrets not defaults and strong, Swagger off or protected, CORS explicit, disk and memory
 * headroom, backups configured and recent (see BackupsCheck), and a supported Node LTS.
 * Evidence names settings and measures them; it never contains a secret.
 */
@Injectable()
export class ConfigurationChecks implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    @Inject(NODE_VERSION) private readonly nodeVersion: string,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'secrets',
      title:
        'Secrets come from the environment, none is a default or a generated development value, and each is strong.',
      remedy:
        'Generate JWT_SECRET (`openssl rand -base64 48`), DATA_ENCRYPTION_KEYS (`k1:` followed by `openssl rand -base64 32`) and database passwords (`openssl rand -hex 24`) per environment; keep them in a secret store (docker/k8s/secret.example.yaml).',
      run: async () => this.secrets(),
    });
    this.registry.register({
      id: 'swagger',
      title: 'Swagger UI and the OpenAPI document are off in production (they are served without authentication).',
      remedy:
        'Set SWAGGER_ENABLED=false in production (its production default); publish the OpenAPI document from CI instead.',
      run: async () => this.swagger(),
    });
    this.registry.register({
      id: 'cors',
      title: 'CORS allows an explicit list of origins (https in production), not any origin.',
      remedy: 'Set CORS_ORIGINS to the exact origins of your front ends, e.g. https://app.example.com.',
      run: async () => this.cors(),
    });
    this.registry.register({
      id: 'resources',
      title: 'Disk and memory headroom above READINESS_MIN_FREE_DISK_MB and READINESS_MIN_FREE_MEMORY_MB (×2 to pass).',
      remedy:
        'Free or grow the volume of DATA_DIR / HEALTH_DISK_PATH; raise the container memory limit or lower DATABASE_POOL_SIZE and payroll concurrency.',
      run: () => this.resources(),
    });
    this.registry.register({
      id: 'node_runtime',
      title: 'Node.js is an LTS release line that is supported today (not within 90 days of its end of life).',
      remedy: 'Run the image on a supported LTS line (docker/Dockerfile NODE_VERSION, e.g. 24).',
      run: async () => this.node(),
    });
  }

  private secrets(): CheckOutcome {
    const production = this.config.production;
    const generated = this.generatedDevSecrets();
    const findings: { verdict: CheckVerdict; finding: string }[] = [];
    const jwtSecret = this.config.get('JWT_SECRET');
    const jwks = this.config.get('JWT_JWKS_URL');
    const jwt: Record<string, unknown> = { mode: jwks ? 'jwks' : 'hs256', hs256_secret_set: !!jwtSecret };
    if (jwtSecret) {
      jwt.length = jwtSecret.length;
      jwt.estimated_bits = estimatedBits(jwtSecret);
      jwt.generated_for_development = generated.has(jwtSecret);
      if ((jwt.estimated_bits as number) < MIN_SECRET_BITS)
        findings.push({ verdict: 'fail', finding: `JWT_SECRET carries about ${String(jwt.estimated_bits)} bits` });
      if (generated.has(jwtSecret))
        findings.push({
          verdict: production ? 'fail' : 'warn',
          finding: 'JWT_SECRET is the development secret generated into DATA_DIR',
        });
    }
    const keyringRaw = this.config.get('DATA_ENCRYPTION_KEYS');
    const keyring: Record<string, unknown> = { set: !!keyringRaw };
    if (keyringRaw) {
      const ring = parseKeyring(keyringRaw);
      Object.assign(keyring, {
        keys: ring.kids.length,
        primary_kid: ring.primaryKid,
        key_bits: ring.kids.map((kid) => (ring.key(kid)?.length ?? 0) * 8),
        generated_for_development: generated.has(keyringRaw),
      });
      if (generated.has(keyringRaw))
        findings.push({
          verdict: production ? 'fail' : 'warn',
          finding: 'DATA_ENCRYPTION_KEYS is the development keyring generated into DATA_DIR',
        });
    } else {
      findings.push({ verdict: production ? 'fail' : 'warn', finding: 'DATA_ENCRYPTION_KEYS is not set' });
    }
    const databases = this.databasePasswords(findings);
    if (this.config.get('OPS_ALERT_WEBHOOK_URLS').length && !this.config.get('OPS_ALERT_WEBHOOK_SECRET'))
      findings.push({ verdict: 'warn', finding: 'OPS_ALERT_WEBHOOK_URLS is set without OPS_ALERT_WEBHOOK_SECRET' });
    if (this.config.get('LLM_PROVIDER') === 'anthropic' && !this.config.get('ANTHROPIC_API_KEY'))
      findings.push({ verdict: 'warn', finding: 'LLM_PROVIDER=anthropic without ANTHROPIC_API_KEY (rules are used)' });
    return {
      verdict: worst(findings.map((f) => f.verdict)),
      evidence: { jwt, data_encryption_keys: keyring, databases, findings: findings.map((f) => f.finding) },
    };
  }

  /** Values of DATA_DIR/dev-secrets.json, if this machine generated development secrets. */
  private generatedDevSecrets(): Set<string> {
    const file = devSecretsFile(this.config.get('DATA_DIR'));
    if (!existsSync(file)) return new Set();
    try {
      return new Set(Object.values(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>));
    } catch {
      return new Set();
    }
  }

  private databasePasswords(findings: { verdict: CheckVerdict; finding: string }[]): Record<string, unknown>[] {
    const urls = {
      DATABASE_URL: this.config.get('DATABASE_URL'),
      DATABASE_SYSTEM_URL: this.config.get('DATABASE_SYSTEM_URL'),
      DATABASE_ADMIN_URL: this.config.get('DATABASE_ADMIN_URL'),
    };
    const seen = new Map<string, string>();
    const out: Record<string, unknown>[] = [];
    for (const [name, url] of Object.entries(urls)) {
      if (!url) continue;
      let user = '';
      let password = '';
      try {
        const u = new URL(url);
        user = decodeURIComponent(u.username);
        password = decodeURIComponent(u.password);
      } catch {
        findings.push({ verdict: 'fail', finding: `${name} is not a URL` });
        continue;
      }
      const weak =
        !password ||
        password.length < MIN_PASSWORD_LENGTH ||
        DEFAULT_PASSWORDS.has(password.toLowerCase()) ||
        password.toLowerCase() === user.toLowerCase();
      out.push({ setting: name, user, password_set: !!password, password_length: password.length, weak });
      if (weak)
        findings.push({
          verdict: 'fail',
          finding: `${name}: the password of ${user} is ${password ? 'a default or shorter than 16 characters' : 'missing'}`,
        });
      const other = seen.get(password);
      if (password && other && other !== user)
        findings.push({ verdict: 'warn', finding: `${name}: ${user} shares its password with ${other}` });
      seen.set(password, user);
    }
    return out;
  }

  private swagger(): CheckOutcome {
    const enabled = this.config.get('SWAGGER_ENABLED');
    const production = this.config.production;
    return {
      verdict: production && enabled ? 'fail' : 'pass',
      evidence: {
        node_env: this.config.get('NODE_ENV'),
        swagger_enabled: enabled,
        served_at: enabled ? '/docs' : null,
      },
    };
  }

  private cors(): CheckOutcome {
    const origins = this.config.get('CORS_ORIGINS');
    if (origins === '*') return { verdict: this.config.production ? 'fail' : 'warn', evidence: { origins: '*' } };
    const insecure = origins.filter((o) => o.startsWith('http://'));
    return {
      verdict: insecure.length && this.config.production ? 'warn' : 'pass',
      evidence: { origins, not_https: insecure },
    };
  }

  private async resources(): Promise<CheckOutcome> {
    const minDisk = this.config.get('READINESS_MIN_FREE_DISK_MB');
    const minMemory = this.config.get('READINESS_MIN_FREE_MEMORY_MB');
    const path = resolve(this.config.get('HEALTH_DISK_PATH') ?? this.config.get('DATA_DIR'));
    const fs = await statfs(path).catch(() => statfs('.'));
    const diskFree = Math.floor((fs.bavail * fs.bsize) / MB);
    const memory = await memoryHeadroom();
    const memoryFree = Math.floor(memory.available_bytes / MB);
    const heap = getHeapStatistics();
    const heapUsedPercent = Math.round((heap.used_heap_size / heap.heap_size_limit) * 1000) / 10;
    const level = (free: number, min: number): CheckVerdict => (free < min ? 'fail' : free < 2 * min ? 'warn' : 'pass');
    const disk = level(diskFree, minDisk);
    const mem = level(memoryFree, minMemory);
    const heapVerdict: CheckVerdict = heapUsedPercent > 90 ? 'warn' : 'pass';
    return {
      verdict: worst([disk, mem, heapVerdict]),
      evidence: {
        disk: {
          verdict: disk,
          path,
          free_mb: diskFree,
          total_mb: Math.floor((fs.blocks * fs.bsize) / MB),
          min_free_mb: minDisk,
        },
        memory: {
          verdict: mem,
          available_mb: memoryFree,
          limit_mb: Math.floor(memory.limit_bytes / MB),
          source: memory.source,
          rss_mb: Math.round(process.memoryUsage().rss / MB),
          min_free_mb: minMemory,
        },
        heap: { verdict: heapVerdict, used_percent: heapUsedPercent, limit_mb: Math.round(heap.heap_size_limit / MB) },
        measured_by: 'the process answering this report',
      },
    };
  }

  private node(): CheckOutcome {
    const today = new Date(this.clock.now());
    const support = nodeSupport(this.nodeVersion, today);
    return {
      verdict: support.verdict,
      evidence: { version: this.nodeVersion, ...support, judged_on: today.toISOString().slice(0, 10) },
    };
  }
}
