import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DatabaseService } from '../../libs/database';
import type { IncidentEventKind } from './entities/incident-event.entity';

export interface TimelineEntry {
  id: string;
  at: string;
  kind: IncidentEventKind;
  actor: string;
  data: Record<string, unknown>;
}

/** The append-only timeline of incidents (no UPDATE or DELETE is granted on it). */
@Injectable()
export class IncidentTimeline {
  constructor(private readonly db: DatabaseService) {}

  async add(
    incidentId: string,
    kind: IncidentEventKind,
    actor: string,
    data: Record<string, unknown> = {},
    m?: EntityManager,
  ): Promise<void> {
    await (m ?? this.db.system.manager).query(
      `INSERT INTO incident_events (incident_id, kind, actor, data) VALUES ($1, $2, $3, $4)`,
      [incidentId, kind, actor, JSON.stringify(data)],
    );
  }

  async list(incidentId: string): Promise<TimelineEntry[]> {
    const rows = (await this.db.system.query(
      `SELECT id::text, at, kind, actor, data FROM incident_events WHERE incident_id = $1 ORDER BY id`,
      [incidentId],
    )) as { id: string; at: Date; kind: IncidentEventKind; actor: string; data: Record<string, unknown> }[];
    return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  }
}
