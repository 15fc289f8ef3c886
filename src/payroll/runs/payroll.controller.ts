import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Scopes } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { IdempotencyKey, PageQueryDto, RequestId } from '../../../libs/http';
import { ListRunsQueryDto, QueueStatusDto, RunAcceptedDto, RunDto, RunPageDto, StartRunDto } from './dto/run.dto';
import { StatementPageDto } from './dto/statement.dto';
import { PayrollRunsService } from './payroll-runs.service';
import { StatementsService } from './statements.service';

@ApiTags('payroll')
@Controller('api/payroll')
export class PayrollController {
  constructor(
    private readonly runs: PayrollRunsService,
    private readonly statements: StatementsService,
  ) {}

  @Post('run')
  @Scopes('payroll:run')
  @ApiOperation({ summary: 'Queue a payroll run for a pay period (202), or get the live run of that period (200).' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Same key, same run.' })
  @ApiAcceptedResponse({ type: RunAcceptedDto })
  @ApiOkResponse({ type: RunAcceptedDto, description: 'A run for this period is already queued, running or paused.' })
  async start(
    @Body() body: StartRunDto,
    @CurrentPrincipal() principal: Principal,
    @Res({ passthrough: true }) res: Response,
    @IdempotencyKey() idempotencyKey?: string,
    @RequestId() requestId?: string,
  ): Promise<RunAcceptedDto> {
    const { created, run } = await this.runs.enqueue(principal, body, idempotencyKey, requestId);
    res.status(created ? 202 : 200);
    return { job_id: run.job_id, status: run.status, queue_position: run.queue_position };
  }

  @Get('jobs')
  @Scopes('payroll:read')
  @ApiOperation({ summary: 'Payroll runs of the org, newest first.' })
  @ApiOkResponse({ type: RunPageDto })
  list(@Query() query: ListRunsQueryDto): Promise<RunPageDto> {
    return this.runs.list(query.limit, query.cursor, query.status);
  }

  @Get('jobs/:job_id')
  @Scopes('payroll:read')
  @ApiOperation({ summary: 'One payroll run: status, progress, attempts, totals and flags.' })
  @ApiOkResponse({ type: RunDto })
  get(@Param('job_id', ParseUUIDPipe) id: string): Promise<RunDto> {
    return this.runs.get(id);
  }

  @Get('jobs/:job_id/statements')
  @Scopes('payroll:read')
  @ApiOperation({ summary: 'Per-driver statements: lines, deductions, totals (paged by driver).' })
  @ApiOkResponse({ type: StatementPageDto })
  statementsPage(@Param('job_id', ParseUUIDPipe) id: string, @Query() query: PageQueryDto): Promise<StatementPageDto> {
    return this.statements.page(id, query.limit, query.cursor);
  }

  @Get('jobs/:job_id/statements.csv')
  @Scopes('payroll:read')
  @ApiOperation({ summary: "The run's lines, deductions and statements as one CSV file." })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV: line, deduction and statement rows.' })
  async statementsCsv(
    @Param('job_id', ParseUUIDPipe) id: string,
    @Res({ passthrough: true }) res: Response,
  ): Promise<string> {
    const csv = await this.statements.csv(id);
    res.type('text/csv').setHeader('Content-Disposition', `attachment; filename="payroll-${id}.csv"`);
    return csv;
  }

  @Get('queue-status')
  @Scopes('payroll:read')
  @ApiOperation({
    summary:
      'Queued and running runs, in the org and cluster-wide, the concurrency cap, and why nothing starts, if so.',
  })
  @ApiOkResponse({ type: QueueStatusDto })
  queueStatus(): Promise<QueueStatusDto> {
    return this.runs.queueStatus();
  }
}
