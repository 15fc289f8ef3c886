import { Injectable } from '@nestjs/common';
import { driverStatement, ticketLine } from '../calculator';
import type { DeductionInput, DriverInput, DriverStatement, PayLine, Period, TicketInput } from '../calculator';

/**
 * The pure calculator behind an injectable seam, so the run executor depends on a provider
 * (tests replace it to inject faults) while the arithmetic stays a plain module.
 */
@Injectable()
export class PayrollCalculator {
  ticketLine(driver: DriverInput, ticket: TicketInput): PayLine {
    return ticketLine(driver, ticket);
  }

  driverStatement(
    driver: DriverInput,
    lines: PayLine[],
    deductions: DeductionInput[],
    period: Period,
  ): DriverStatement {
    return driverStatement(driver, lines, deductions, period);
  }
}
