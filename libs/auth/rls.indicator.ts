import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DatabaseService } from '../database';
import { ReadinessRegistry } from '../health/readiness-registry';

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
    if (!this.db.connected) return check.down({ message: 'database not connected' });
    const rows = (await this.db.app.query(
      `SELECT current_user AS role, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`,
    )) as { role: string; rolsuper: boolean; rolbypassrls: boolean }[];
    const { role, rolsuper, rolbypassrls } = rows[0];
    const enforced = !rolsuper && !rolbypassrls;
    if (!enforced && !this.warned) {
      this.warned = true;
      this.logger.warn(`runtime role ${role} bypasses row-level security (superuser or BYPASSRLS): tenant isolation relies on the application alone`);
    }
    return check.up({ rls_enforced: enforced, runtime_role: role });
  }
}
