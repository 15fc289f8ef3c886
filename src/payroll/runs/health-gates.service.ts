import { Inject, Injectable, Optional } from '@nestjs/common';
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AppConfig } from '../../../libs/config';
import { CRITICAL_INCIDENTS } from '../../../libs/health';
import type { CriticalIncidentProvider } from '../../../libs/health';

/**
 * Conditions under which no new payroll run may start: the worker's memory, free disk where
 * the data lives, and open critical incidents. Each is measured when asked.
 */
@Injectable()
export class PayrollHealthGates {
  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(CRITICAL_INCIDENTS) private readonly incidents?: CriticalIncidentProvider,
  ) {}

  /** null when every gate is open, else why not. */
  async blockedBecause(): Promise<string | null> {
    const rssMb = Math.round(process.memoryUsage().rss / 1048576);
    const maxRss = this.config.get('PAYROLL_MAX_RSS_MB');
    if (rssMb > maxRss) return `memory: worker RSS ${rssMb} MB is above PAYROLL_MAX_RSS_MB ${maxRss}`;
    const minFree = this.config.get('PAYROLL_MIN_FREE_DISK_MB');
    if (minFree > 0) {
      const fs = await statfs(resolve(this.config.get('DATA_DIR'))).catch(() => statfs('.'));
      const freeMb = Math.floor((fs.bavail * fs.bsize) / 1048576);
      if (freeMb < minFree) return `disk: ${freeMb} MB free is below PAYROLL_MIN_FREE_DISK_MB ${minFree}`;
    }
    const open = (await this.incidents?.openCriticalIncidents()) ?? [];
    if (open.length) return `incident: critical incident open (${open.join('; ')})`;
    return null;
  }

  /** Memory alone: a running run pauses itself at a checkpoint when this trips. */
  memoryPressure(): string | null {
    const rssMb = Math.round(process.memoryUsage().rss / 1048576);
    const maxRss = this.config.get('PAYROLL_MAX_RSS_MB');
    return rssMb > maxRss ? `memory: worker RSS ${rssMb} MB is above PAYROLL_MAX_RSS_MB ${maxRss}` : null;
  }
}
