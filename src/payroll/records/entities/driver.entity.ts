import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const PAY_TYPES = ['hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load'] as const;
export type DriverPayType = (typeof PAY_TYPES)[number];

@Entity('payroll_drivers')
@Index('payroll_drivers_org_created_id', ['orgId', 'createdAt', 'id'])
@Index('payroll_drivers_org_external_ref', ['orgId', 'externalRef'], {
  unique: true,
  where: 'external_ref IS NOT NULL',
})
@Check(
  'payroll_drivers_pay_type_check',
  `pay_type IN ('hourly', 'percentage', 'salary', 'per_yard', 'per_ton', 'per_load')`,
)
@Check('payroll_drivers_rate_check', `rate >= 0`)
export class Driver {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column('uuid') orgId!: string;
  @Column('text') name!: string;
  @Column('text', { nullable: true }) externalRef!: string | null;
  @Column('text') payType!: DriverPayType;
  /** Decimal string (numeric(14,4)); never a float. */
  @Column('numeric', { precision: 14, scale: 4, nullable: true }) rate!: string | null;
  @Column('boolean', { default: false }) overtimeExempt!: boolean;
  @Column('boolean', { default: true }) active!: boolean;
  @CreateDateColumn({ type: 'timestamptz', default: () => 'now()' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz', default: () => 'now()' }) updatedAt!: Date;
}
