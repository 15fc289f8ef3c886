import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What the detector remembers of one condition between its ticks (see condition-state.ts). */
@Entity('incident_rule_states')
export class RuleState {
  @PrimaryColumn('text') key!: string;
  @Column('text') signal!: string;
  @Column('text') scope!: string;
  @Column('text', { default: '' }) resource!: string;
  @Column('text', { default: 'ok' }) level!: 'ok' | 'warning' | 'critical';
  @Column('text', { default: '' }) history!: string;
  @Column('timestamptz', { nullable: true }) breachedSince!: Date | null;
  @Column('timestamptz', { nullable: true }) clearSince!: Date | null;
  @Column('boolean', { default: false }) flapping!: boolean;
  @Column('double precision', { nullable: true }) lastValue!: number | null;
  @Column('uuid', { nullable: true }) incidentId!: string | null;
  @Column('timestamptz', { default: () => 'now()' }) updatedAt!: Date;
}
