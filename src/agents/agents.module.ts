import { Module } from '@nestjs/common';
import { IncidentsModule } from '../incidents/incidents.module';
import { PayrollModule } from '../payroll/payroll.module';
import { SessionsModule } from '../sessions/sessions.module';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { AssistantAgentsController } from './assistant-agents.controller';
import { AgentSteps } from './agent-steps';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsService } from './approvals.service';
import { AssistantService } from './assistant.service';
import { ConversationsService } from './conversations.service';
import { ApprovalExecutor } from './jobs/approval-executor.job';
import { ModelProvider } from './llm/model-provider';
import { ToolRunner } from './tools/tool-runner.service';

/**
 * Assistant agents: a registry of agents and tools, deterministic routing, a permission gate
 * (caller ∩ agent ∩ tool), conversations with every tool call, and approvals that bind a drafted
 * action to its exact arguments before the worker executes it once.
 */
@Module({
  imports: [PayrollModule, SessionsModule, WebhooksModule, IncidentsModule],
  controllers: [AssistantAgentsController, ApprovalsController],
  providers: [
    AgentSteps,
    ModelProvider,
    ToolRunner,
    AssistantService,
    ConversationsService,
    ApprovalsService,
    ApprovalExecutor,
  ],
  exports: [AgentSteps],
})
export class AgentsModule {}

export { AgentSteps } from './agent-steps';
export type { AgentStepResult } from './agent-steps';
export { AskContextDto } from './dto/agents.dto';
export type { ApprovalDto } from './dto/agents.dto';
