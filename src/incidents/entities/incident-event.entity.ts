import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Incident } from './incident.entity';

export type IncidentEventKind =
  | 'detected'
  | 'declared'
  | 'state_changed'
  | 'escalated'
  | 'flapping'
  | 'note'
  | 'action_applied'
  | 'action_reverted'
  | 'action_failed'
  | 'metric_snapshot'
  | 'impact'
  | 'postmortem_drafted';

/** The append-only timeline of an incident. */
@Entity('incident_events')
@Index('incident_events_incident', ['incidentId', 'id'])
export class IncidentEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid') incidentId!: string;
  @ManyToOne(() => Incident)
  @JoinColumn({ name: 'incident_id', foreignKeyConstraintName: 'incident_events_incident_id_fkey' })
  incident?: Incident;
  @Column('timestamptz', { default: () => 'now()' }) at!: Date;
  @Column('text') kind!: IncidentEventKind;
  @Column('text') actor!: string;
  @Column('jsonb', { default: () => "'{}'" }) data!: Record<string, unknown>;
}
