import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
} from 'typeorm';
import { Incident } from './incident.entity';

/** What an incident means for one org: the one incident row a tenant can see (RLS on org_id). */
@Entity('incident_impacts')
@Unique('incident_impacts_once', ['incidentId', 'orgId'])
@Index('incident_impacts_org_created_id', ['orgId', 'createdAt', 'id'])
export class IncidentImpact {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') incidentId!: string;
  @ManyToOne(() => Incident)
  @JoinColumn({ name: 'incident_id', foreignKeyConstraintName: 'incident_impacts_incident_id_fkey' })
  incident?: Incident;
  @Column('text') title!: string;
  @Column('text') severity!: string;
  @Column('text') status!: string;
  @Column('text', { array: true, default: () => "'{}'" }) features!: string[];
  @Column('jsonb', { default: () => "'{}'" }) counts!: Record<string, number>;
  @Column('jsonb', { default: () => "'[]'" }) updates!: { at: string; status: string; message: string }[];
  @Column('timestamptz') startedAt!: Date;
  @Column('timestamptz', { nullable: true }) resolvedAt!: Date | null;
  @Column('timestamptz', { default: () => 'now()' }) firstSeenAt!: Date;
  @Column('timestamptz', { default: () => 'now()' }) lastSeenAt!: Date;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
