import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiConflictResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { IdempotencyKey, RequestId } from '../../libs/http';
import {
  CreateWorkflowDto,
  WorkflowAcceptedDto,
  WorkflowDto,
  WorkflowListQueryDto,
  WorkflowPageDto,
} from './dto/workflow.dto';
import { WorkflowsService } from './workflows.service';

/** Multi-agent workflows of assistant agents, durable and resumable. */
@ApiTags('workflows')
@Controller('api/workflows')
export class WorkflowsController {
  constructor(private readonly workflows: WorkflowsService) {}

  @Post()
  @Scopes('agents:write')
  @ApiOperation({
    summary:
      'Start a workflow (sequential, parallel, debate, verification, panel). 202 with its id; the same Idempotency-Key returns the same workflow (200).',
  })
  @ApiAcceptedResponse({ type: WorkflowAcceptedDto })
  async create(
    @Body() body: CreateWorkflowDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
    @IdempotencyKey() idempotencyKey?: string,
    @RequestId() requestId?: string,
  ): Promise<WorkflowAcceptedDto> {
    const { created, id, status } = await this.workflows.create(principal, body, idempotencyKey, requestId);
    res.status(created ? 202 : 200);
    return { id, status };
  }

  @Get()
  @Scopes('agents:read')
  @ApiOperation({ summary: "The org's workflows, newest first, optionally by status." })
  @ApiOkResponse({ type: WorkflowPageDto })
  list(@Query() query: WorkflowListQueryDto): Promise<WorkflowPageDto> {
    return this.workflows.list(query.limit ?? 50, query.cursor, query.status);
  }

  @Get(':id')
  @Scopes('agents:read')
  @ApiOperation({ summary: 'A workflow: status, every step in order, the result, proposals and escalations.' })
  @ApiOkResponse({ type: WorkflowDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<WorkflowDto> {
    return this.workflows.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Scopes('agents:write')
  @ApiOperation({ summary: 'Cancel a live workflow (its undecided drafts are cancelled with it).' })
  @ApiOkResponse({ type: WorkflowDto })
  @ApiConflictResponse({ description: 'The workflow has ended' })
  cancel(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<WorkflowDto> {
    return this.workflows.cancel(principal, id, requestId);
  }
}
