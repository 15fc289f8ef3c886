import { Module } from '@nestjs/common';
import { DeductionsController } from './deductions.controller';
import { DeductionsService } from './deductions.service';
import { DriversController } from './drivers.controller';
import { DriversService } from './drivers.service';
import { TicketsController } from './tickets.controller';
import { TicketCorrections } from './ticket-corrections';
import { TicketsService } from './tickets.service';
import { UploadOutcomes } from './upload-outcomes';

/** Payroll's input records: drivers, haul tickets (JSON and CSV) and deductions. */
@Module({
  controllers: [DriversController, TicketsController, DeductionsController],
  providers: [DriversService, TicketsService, DeductionsService, UploadOutcomes, TicketCorrections],
  exports: [UploadOutcomes, TicketCorrections],
})
export class PayrollRecordsModule {}
