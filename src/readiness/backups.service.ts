import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../libs/config';
import { ProductionCheckRegistry } from '../../libs/core';
import type { CheckOutcome } from '../../libs/core';
import { DatabaseService } from '../../libs/database';
import { ProblemException } from '../../libs/http';
import type { BackupReportDto, ReportBackupDto } from './dto/readiness.dto';

interface BackupRow {
  id: string;
  completed_at: Date;
  target: string;
  method: string | null;
  size_bytes: string | null;
  note: string | null;
  reported_by: string;
  reported_at: Date;
}

/** A backup may be reported with a clock this far ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

const toDto = (r: BackupRow): BackupReportDto => ({
  id: r.id,
  completed_at: r.completed_at.toISOString(),
  target: r.target,
  method: r.method,
  size_bytes: r.size_bytes === null ? null : Number(r.size_bytes),
  note: r.note,
  reported_by: r.reported_by,
  reported_at: r.reported_at.toISOString(),
});

/**
 * Backups as the operator reports them (the backup itself is pg_dump, pgBackRest or the managed
 * database's; CalmOps does not run it), and the readiness check on them: BACKUP_TARGET set and
 * the newest reported backup younger than BACKUP_MAX_AGE_HOURS.
 */
@Injectable()
export class BackupsService implements OnModuleInit {
  constructor(
    private readonly registry: ProductionCheckRegistry,
    private readonly db: DatabaseService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      id: 'backups',
      title: 'Backups are configured (BACKUP_TARGET) and the newest reported one is younger than BACKUP_MAX_AGE_HOURS.',
      remedy:
        'Schedule backups of the database (pg_dump, pgBackRest or your provider’s snapshots) to BACKUP_TARGET, and report each finished one with POST /api/ops/backups.',
      run: () => this.check(),
    });
  }

  async report(body: ReportBackupDto, reportedBy: string): Promise<BackupReportDto> {
    const completedAt = new Date(body.completed_at);
    if (completedAt.getTime() > Date.now() + CLOCK_SKEW_MS)
      throw new ProblemException(422, 'completed_at is later than now.', {
        title: 'Backup in the future',
        errors: [{ field: 'completed_at', message: 'must not be in the future' }],
      });
    const target = body.target ?? this.config.get('BACKUP_TARGET');
    if (!target)
      throw new ProblemException(422, 'Give target, or set BACKUP_TARGET on the server.', {
        title: 'Backup target unknown',
        errors: [{ field: 'target', message: 'required when BACKUP_TARGET is not set' }],
      });
    const [row] = (await this.db.system.query(
      `INSERT INTO ops_backups (completed_at, target, method, size_bytes, note, reported_by)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [completedAt, target, body.method ?? null, body.size_bytes ?? null, body.note ?? null, reportedBy],
    )) as BackupRow[];
    return toDto(row);
  }

  private async check(): Promise<CheckOutcome> {
    const target = this.config.get('BACKUP_TARGET');
    const maxAgeHours = this.config.get('BACKUP_MAX_AGE_HOURS');
    const rows = (await this.db.system.query(
      `SELECT *, extract(epoch FROM now() - completed_at)::float8 / 3600 AS age_hours
       FROM ops_backups ORDER BY completed_at DESC LIMIT 1`,
    )) as (BackupRow & { age_hours: number })[];
    const newest = rows[0];
    const ageHours = newest ? Math.round(newest.age_hours * 10) / 10 : null;
    const evidence = {
      backup_target: target ?? null,
      max_age_hours: maxAgeHours,
      newest: newest ? toDto(newest) : null,
      newest_age_hours: ageHours,
    };
    if (!target) return { verdict: this.config.production ? 'fail' : 'warn', evidence };
    if (!newest)
      return {
        verdict: 'fail',
        evidence,
        remedy: 'No backup has been reported: report each one with POST /api/ops/backups.',
      };
    return { verdict: ageHours! > maxAgeHours ? 'fail' : 'pass', evidence };
  }
}
