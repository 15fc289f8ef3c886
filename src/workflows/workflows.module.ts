import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { WorkflowRunner } from './jobs/workflow-runner.job';
import { WorkflowsController } from './workflows.controller';
import { WorkflowsService } from './workflows.service';

/**
 * Multi-agent workflows: five collaboration patterns over the assistant agents, persisted step by
 * step in PostgreSQL, advanced by workers under a lease, parked while an approval is pending.
 */
@Module({
  imports: [AgentsModule],
  controllers: [WorkflowsController],
  providers: [WorkflowsService, WorkflowRunner],
})
export class WorkflowsModule {}
