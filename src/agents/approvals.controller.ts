import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiConflictResponse, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { RequestId } from '../../libs/http';
import { ApprovalsService } from './approvals.service';
import { ApprovalDto, ApprovalListQueryDto, ApprovalPageDto, ApproveDto, RejectDto } from './dto/agents.dto';

/** Human decisions on what assistant agents drafted. */
@ApiTags('assistant agents')
@Controller('api/approvals')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get()
  @Scopes('agents:read')
  @ApiOperation({ summary: 'Approval requests of the org, newest first, optionally by status.' })
  @ApiOkResponse({ type: ApprovalPageDto })
  list(@Query() query: ApprovalListQueryDto): Promise<ApprovalPageDto> {
    return this.approvals.list(query.limit ?? 50, query.cursor, query.status);
  }

  @Get(':id')
  @Scopes('agents:read')
  @ApiOperation({ summary: 'One approval request: the frozen arguments, their hash, the decision and the result.' })
  @ApiOkResponse({ type: ApprovalDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<ApprovalDto> {
    return this.approvals.get(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Scopes('approvals:write')
  @ApiOperation({
    summary: 'Approve: the worker then executes the action once. Not by its requester; needs the tool’s scopes.',
  })
  @ApiOkResponse({ type: ApprovalDto })
  @ApiForbiddenResponse({ description: 'The approver is the requester, or lacks a scope of the tool' })
  @ApiConflictResponse({ description: 'Not pending, expired, or bound to other arguments or another tool version' })
  approve(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ApproveDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<ApprovalDto> {
    return this.approvals.approve(principal, id, body.reason, requestId);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Scopes('approvals:write')
  @ApiOperation({ summary: 'Reject, with a reason. Not by its requester.' })
  @ApiOkResponse({ type: ApprovalDto })
  @ApiForbiddenResponse({ description: 'The approver is the requester' })
  @ApiConflictResponse({ description: 'Not pending' })
  reject(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RejectDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<ApprovalDto> {
    return this.approvals.reject(principal, id, body.reason, requestId);
  }
}
