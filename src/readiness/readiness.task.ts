import { Injectable } from '@nestjs/common';
import { DatabaseService } from '../../libs/database';
import { MaintenanceTask } from '../../libs/tasks';
import type { TaskFlags, TaskResult } from '../../libs/tasks';
import type { ReadinessReportDto } from './dto/readiness.dto';
import { ReadinessReportService } from './readiness-report.service';

const MARK = { pass: 'PASS', warn: 'WARN', fail: 'FAIL' } as const;

/** The report as lines a person reads: verdict, then each check with its remedy when it does not pass. */
export function readinessText(report: ReadinessReportDto): string {
  const lines = [
    `${report.verdict}  (${report.counts.pass} pass, ${report.counts.warn} warn, ${report.counts.fail} fail; ${report.generated_at})`,
  ];
  for (const c of report.checks) {
    lines.push(`${MARK[c.verdict]}  ${c.id.padEnd(26)} ${c.title}`);
    if (c.verdict !== 'pass') {
      lines.push(`      evidence: ${JSON.stringify(c.evidence)}`);
      lines.push(`      remedy:   ${c.remedy}`);
    }
  }
  return lines.join('\n');
}

@Injectable()
export class ReadinessTask {
  constructor(
    private readonly report: ReadinessReportService,
    private readonly db: DatabaseService,
  ) {}

  @MaintenanceTask(
    'readiness',
    'Print the production-readiness report (JSON, or --format text); exit 0 only when the verdict is READY.',
  )
  async readiness(flags: TaskFlags): Promise<TaskResult> {
    if (flags.format !== undefined && flags.format !== 'json' && flags.format !== 'text')
      return { ok: false, output: { ok: false, message: '--format is json or text' } };
    // Tasks do not wait for readiness the way the HTTP roles do; the pools connect in the background.
    await this.db.whenConnected();
    const report = await this.report.report();
    return { ok: report.verdict === 'READY', output: flags.format === 'text' ? readinessText(report) : report };
  }
}
