import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Category, Severity } from '../signals/rules';

export const INCIDENT_STATUSES = ['triage', 'active', 'mitigated', 'resolved', 'closed', 'cancelled'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const OPEN_STATUSES: IncidentStatus[] = ['triage', 'active', 'mitigated'];

/** A platform incident: opened by a rule (or declared by an operator), one per open condition. */
@Entity('incidents')
@Index('incidents_one_open_per_key', ['dedupKey'], {
  unique: true,
  where: `status IN ('triage', 'active', 'mitigated')`,
})
@Index('incidents_created_id', ['createdAt', 'id'])
@Check('incidents_status_check', `status IN ('triage', 'active', 'mitigated', 'resolved', 'closed', 'cancelled')`)
@Check('incidents_severity_check', `severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')`)
@Check(
  'incidents_category_check',
  `category IN ('capacity', 'availability', 'dependency', 'data_integrity', 'security')`,
)
export class Incident {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('text') dedupKey!: string;
  @Column('text', { default: 'rule' }) source!: 'rule' | 'manual';
  @Column('text', { nullable: true }) signal!: string | null;
  @Column('text', { nullable: true }) scope!: string | null;
  @Column('text', { default: '' }) resource!: string;
  @Column('text') title!: string;
  @Column('text', { nullable: true }) summary!: string | null;
  @Column('text') severity!: Severity;
  @Column('text') category!: Category;
  @Column('text', { default: 'triage' }) status!: IncidentStatus;
  @Column('text', { nullable: true }) level!: 'warning' | 'critical' | null;
  @Column('boolean', { default: false }) flapping!: boolean;
  @Column('timestamptz', { default: () => 'now()' }) openedAt!: Date;
  @Column('timestamptz', { nullable: true }) acknowledgedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) mitigatedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) resolvedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) closedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) cancelledAt!: Date | null;
  @Column('double precision', { nullable: true }) firstValue!: number | null;
  @Column('double precision', { nullable: true }) worstValue!: number | null;
  @Column('double precision', { nullable: true }) lastValue!: number | null;
  @Column('integer', { default: 0 }) orgsAffected!: number;
  @Column('timestamptz', { nullable: true }) notifiedAt!: Date | null;
  @Column('jsonb', { nullable: true }) postmortem!: Record<string, unknown> | null;
  @Column('text', { nullable: true }) lessons!: string | null;
  @Column('text', { default: 'system' }) createdBy!: string;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
