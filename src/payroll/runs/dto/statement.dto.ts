import { ApiProperty } from '@nestjs/swagger';

export class FlagDto {
  @ApiProperty() code!: string;
  @ApiProperty({ enum: ['blocking', 'warning'] }) severity!: string;
}

export class StatementLineDto {
  @ApiProperty({ nullable: true, type: String }) ticket_number!: string | null;
  @ApiProperty({ nullable: true, type: String }) work_date!: string | null;
  @ApiProperty({ enum: ['ticket', 'overtime', 'salary'] }) kind!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Decimal string.' }) quantity!: string | null;
  @ApiProperty({ nullable: true, type: String }) unit!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Decimal string.' }) rate!: string | null;
  @ApiProperty() amount_cents!: number;
  @ApiProperty() held!: boolean;
  @ApiProperty({ type: [FlagDto] }) flags!: FlagDto[];
}

export class AppliedDeductionDto {
  @ApiProperty({ format: 'uuid' }) deduction_id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() wanted_cents!: number;
  @ApiProperty() capped_cents!: number;
  @ApiProperty() applied_cents!: number;
  @ApiProperty() shortfall_cents!: number;
}

export class StatementDto {
  @ApiProperty({ format: 'uuid' }) driver_id!: string;
  @ApiProperty() driver_name!: string;
  @ApiProperty() gross_cents!: number;
  @ApiProperty() deductions_cents!: number;
  @ApiProperty() net_cents!: number;
  @ApiProperty() held_cents!: number;
  @ApiProperty({ type: [FlagDto] }) flags!: FlagDto[];
  @ApiProperty({ type: [StatementLineDto] }) lines!: StatementLineDto[];
  @ApiProperty({ type: [AppliedDeductionDto] }) deductions!: AppliedDeductionDto[];
}

export class StatementPageDto {
  @ApiProperty({ type: [StatementDto] }) items!: StatementDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor!: string | null;
}
