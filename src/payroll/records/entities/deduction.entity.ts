import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { Driver } from './driver.entity';

@Entity('payroll_deductions')
@Index('payroll_deductions_org_driver', ['orgId', 'driverId'])
@Index('payroll_deductions_org_created_id', ['orgId', 'createdAt', 'id'])
@Check(
  'payroll_deductions_kind_check',
  `(kind = 'fixed' AND amount_cents > 0 AND percent IS NULL) OR (kind = 'percent' AND percent > 0 AND percent <= 100 AND amount_cents IS NULL)`,
)
@Check('payroll_deductions_cap_check', `max_total_cents > 0`)
export class Deduction {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('uuid') driverId!: string;
  @ManyToOne(() => Driver)
  @JoinColumn({ name: 'driver_id', foreignKeyConstraintName: 'payroll_deductions_driver_id_fkey' })
  driver?: Driver;
  @Column('text') name!: string;
  @Column('text') kind!: 'fixed' | 'percent';
  @Column('bigint', { nullable: true }) amountCents!: string | null;
  @Column('numeric', { precision: 7, scale: 4, nullable: true }) percent!: string | null;
  @Column('integer', { default: 100 }) priority!: number;
  @Column('bigint', { nullable: true }) maxTotalCents!: string | null;
  @Column('boolean', { default: true }) active!: boolean;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
}
