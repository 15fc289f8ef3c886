import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Driver } from './driver.entity';

@Entity('payroll_tickets')
@Index('payroll_tickets_org_number', ['orgId', 'ticketNumber'])
@Index('payroll_tickets_org_date', ['orgId', 'workDate', 'id'])
@Index('payroll_tickets_driver', ['driverId'])
@Check(
  'payroll_tickets_quantities_check',
  `hours >= 0 AND tons >= 0 AND yards >= 0 AND loads >= 0 AND revenue_cents >= 0`,
)
export class Ticket {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') ticketNumber!: string;
  @Column('uuid') driverId!: string;
  @ManyToOne(() => Driver, { createForeignKeyConstraints: true })
  @JoinColumn({ name: 'driver_id', foreignKeyConstraintName: 'payroll_tickets_driver_id_fkey' })
  driver?: Driver;
  /** YYYY-MM-DD. */
  @Column('date') workDate!: string;
  @Column('numeric', { precision: 12, scale: 3, nullable: true }) hours!: string | null;
  @Column('numeric', { precision: 12, scale: 3, nullable: true }) tons!: string | null;
  @Column('numeric', { precision: 12, scale: 3, nullable: true }) yards!: string | null;
  @Column('numeric', { precision: 12, scale: 3, nullable: true }) loads!: string | null;
  @Column('bigint', { nullable: true }) revenueCents!: string | null;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
