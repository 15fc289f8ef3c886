import { createHash, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether a request may read operator detail (/metrics, readiness details): with METRICS_TOKEN
 * set, only with `Authorization: Bearer <METRICS_TOKEN>`; without it, anyone outside production
 * and nobody in production. Compared in constant time, without touching the database, so a
 * refusal costs an attacker's flood nothing.
 */
export function operatorAccess(config: AppConfig, authorization: string | string[] | undefined): boolean {
  const token = config.get('METRICS_TOKEN');
  if (!token) return !config.production;
  const given = typeof authorization === 'string' ? /^Bearer (.+)$/i.exec(authorization.trim())?.[1] : undefined;
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}
