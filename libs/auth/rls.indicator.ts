import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseService } from '../database';
import { ReadinessRegistry } from '../core';
import { withTimeout } from '../resilience';

/**
 * Reports whether row-level security actually binds the runtime role. A runtime role that is a
 * superuser or has BYPASSRLS would silently see every org: readiness shows `rls_enforced: false`
 * and a warning is logged (the process still serves, so a misconfigured role is visible rather
 * than an outage).
 */
@Injectable()
export class RlsIndicator implements OnModuleInit {
  private readonly logger = new Logger('RLS');
  private warned = false;
  private last?: { at: number; role: string; enforced: boolean };

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly registry: ReadinessRegistry,
    private readonly db: DatabaseService,
  ) {}

  onModuleInit(): void {
    this.registry.register('rls', () => this.check());
  }

  async check() {
    const check = this.indicators.check('rls');
    // Role attributes rarely change: re-read once a minute, and never let a slow database make
    // this check (rather than the database check) decide how long readiness takes.
    if (!this.last || Date.now() - this.last.at > 60_000) {
      const query = this.db.connected
        ? (this.db.app.query(
            `SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
          ) as Promise<{ role: string; rolsuper: boolean; rolbypassrls: boolean }[]>)
        : Promise.reject(new Error('database not connected'));
      try {
        const [row] = await withTimeout(query, 1000, 'the role check');
        this.last = { at: Date.now(), role: row.role, enforced: !row.rolsuper && !row.rolbypassrls };
      } catch (err) {
        if (!this.last) return check.down({ message: (err as Error).message });
      }
    }
    const { role, enforced } = this.last!;
    if (!enforced && !this.warned) {
      this.warned = true;
      this.logger.warn(
        `runtime role ${role} bypasses row-level security (superuser or BYPASSRLS): tenant isolation relies on the application alone`,
      );
    }
    return check.up({ rls_enforced: enforced, runtime_role: role });
  }
}
