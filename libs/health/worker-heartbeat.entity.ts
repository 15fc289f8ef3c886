import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** One row per running process (api, worker, all), refreshed every few seconds. */
@Entity('worker_heartbeats')
@Index('worker_heartbeats_role_last_seen', ['role', 'lastSeenAt'])
export class WorkerHeartbeat {
  /** Instance id generated at process start (pids repeat across containers). */
  @PrimaryColumn('uuid')
  id!: string;

  @Column('integer')
  pid!: number;

  @Column('text')
  role!: string;

  @Column('text')
  host!: string;

  @Column('text')
  version!: string;

  @Column('timestamptz')
  startedAt!: Date;

  @Column('timestamptz')
  lastSeenAt!: Date;
}
