import { Module } from '@nestjs/common';
import { PayrollDispatchControl } from './dispatch-control';
import { PayrollDiagnostics } from './payroll-diagnostics';
import { PayrollHealthGates } from './health-gates.service';
import { PayrollSignals } from './payroll-signals';
import { RunDispatcher } from './jobs/run-dispatcher.service';
import { PayrollAdminController } from './payroll-admin.controller';
import { PayrollCalculator } from './payroll-calculator.service';
import { PayrollControlService } from './payroll-control.service';
import { PayrollRunsService } from './payroll-runs.service';
import { PayrollController } from './payroll.controller';
import { RunExecutor } from './run-executor.service';
import { RunFinalizer } from './run-finalizer';
import { StatementsService } from './statements.service';

/** Payroll runs: queueing, dispatch under the database's caps, execution, statements, control. */
@Module({
  controllers: [PayrollController, PayrollAdminController],
  providers: [
    PayrollRunsService,
    PayrollControlService,
    StatementsService,
    PayrollCalculator,
    PayrollHealthGates,
    PayrollDispatchControl,
    PayrollSignals,
    PayrollDiagnostics,
    RunExecutor,
    RunFinalizer,
    RunDispatcher,
  ],
  exports: [PayrollDispatchControl, PayrollSignals, PayrollDiagnostics, PayrollRunsService],
})
export class PayrollRunsModule {}
