import { Module } from '@nestjs/common';
import { PayrollRecordsModule } from './records/payroll-records.module';
import { PayrollRunsModule } from './runs/payroll-runs.module';

/**
 * The payroll feature: its input records (drivers, tickets, deductions) and its runs (queueing,
 * dispatch, execution, statements, control), two modules in two folders. Other features reach
 * payroll only through what this module exports.
 */
@Module({
  imports: [PayrollRecordsModule, PayrollRunsModule],
  exports: [PayrollRecordsModule, PayrollRunsModule],
})
export class PayrollModule {}

export { PayrollDispatchControl } from './runs/dispatch-control';
export { PayrollSignals } from './runs/payroll-signals';
export type { OrgValue } from './runs/payroll-signals';
export { UploadOutcomes } from './records/upload-outcomes';
export { PayrollDiagnostics } from './runs/payroll-diagnostics';
export type { FlaggedLineEvidence, RunEvidence, ShortfallEvidence } from './runs/payroll-diagnostics';
export { PayrollRunsService } from './runs/payroll-runs.service';
export { TicketCorrections } from './records/ticket-corrections';
export type { CorrectableQuantity, TicketCorrection } from './records/ticket-corrections';
