import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The row whose insert decides which replica fires a cron tick (primary key = name + tick). */
@Entity('cluster_cron_ticks')
export class ClusterCronTick {
  @PrimaryColumn('text')
  name!: string;

  @PrimaryColumn('timestamptz')
  tickAt!: Date;

  @Column('timestamptz', { default: () => 'now()' })
  firedAt!: Date;

  @Column('uuid')
  firedBy!: string;
}
