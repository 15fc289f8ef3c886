import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A finished database backup, as the operator reported it. */
@Entity('ops_backups')
@Index('ops_backups_completed_at', ['completedAt'])
@Check('ops_backups_size_check', `size_bytes IS NULL OR size_bytes >= 0`)
export class OpsBackup {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('timestamptz') completedAt!: Date;
  @Column('text') target!: string;
  @Column('text', { nullable: true }) method!: string | null;
  @Column('bigint', { nullable: true }) sizeBytes!: string | null;
  @Column('text', { nullable: true }) note!: string | null;
  @Column('text') reportedBy!: string;
  @Column('timestamptz', { default: () => 'now()' }) reportedAt!: Date;
}
