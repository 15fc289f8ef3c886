import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One measurement of one health signal, by one process (or for the cluster, a host, an org). */
@Entity('health_samples')
@Index('health_samples_signal_at', ['signal', 'measuredAt'])
@Index('health_samples_at', ['measuredAt'])
@Check('health_samples_scope_check', `scope IN ('process', 'host', 'cluster', 'org')`)
export class HealthSample {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('timestamptz', { default: () => 'now()' }) measuredAt!: Date;
  @Column('text') signal!: string;
  @Column('text') scope!: string;
  @Column('text', { default: '' }) resource!: string;
  @Column('uuid', { nullable: true }) processId!: string | null;
  @Column('text', { nullable: true }) role!: string | null;
  @Column('text', { nullable: true }) host!: string | null;
  @Column('double precision', { nullable: true }) value!: number | null;
  @Column('text', { nullable: true }) unknownReason!: string | null;
}
