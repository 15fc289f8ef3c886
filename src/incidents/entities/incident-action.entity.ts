import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Incident } from './incident.entity';

/** A stabilization action taken for an incident: applied, then reverted or expired. */
@Entity('incident_actions')
@Index('incident_actions_incident', ['incidentId'])
@Index('incident_actions_live', ['expiresAt'], { where: `status = 'applied'` })
@Check('incident_actions_status_check', `status IN ('applied', 'reverted', 'expired')`)
export class IncidentAction {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') incidentId!: string;
  @ManyToOne(() => Incident)
  @JoinColumn({ name: 'incident_id', foreignKeyConstraintName: 'incident_actions_incident_id_fkey' })
  incident?: Incident;
  @Column('text') action!: string;
  @Column('jsonb', { default: () => "'{}'" }) params!: Record<string, unknown>;
  @Column('boolean') automatic!: boolean;
  @Column('text', { default: 'applied' }) status!: 'applied' | 'reverted' | 'expired';
  @Column('timestamptz', { default: () => 'now()' }) appliedAt!: Date;
  @Column('timestamptz') expiresAt!: Date;
  @Column('timestamptz', { nullable: true }) revertedAt!: Date | null;
  @Column('jsonb', { nullable: true }) outcome!: Record<string, unknown> | null;
  @Column('text') actor!: string;
}
