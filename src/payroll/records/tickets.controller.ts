import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../../libs/auth';
import type { Principal } from '../../../libs/auth';
import { Consumes, RequestId } from '../../../libs/http';
import { TicketBatchDto, TicketListQueryDto, TicketPageDto, TicketUploadResultDto } from './dto/ticket.dto';
import { TicketsService } from './tickets.service';

@ApiTags('payroll')
@Controller('api/payroll/tickets')
export class TicketsController {
  constructor(private readonly tickets: TicketsService) {}

  @Post()
  @Scopes('payroll:write')
  @ApiOperation({
    summary: 'Add 1 to 5,000 haul tickets at once, all or nothing.',
    description:
      'Any invalid row (or a driver_id that is not a driver of your org) refuses the whole batch with 400; ' +
      'errors[].field reads `tickets[<index>].<field>` (0-based index) and errors[].row is the 1-based ' +
      'position. Duplicate ticket numbers are accepted; the payroll run flags them.',
  })
  @ApiCreatedResponse({ type: TicketUploadResultDto })
  create(
    @Body() body: TicketBatchDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<TicketUploadResultDto> {
    return this.tickets.createBatch(principal, body, requestId);
  }

  @Post('upload')
  @Scopes('payroll:write')
  @Consumes('text/csv')
  @ApiConsumes('text/csv')
  @ApiBody({
    schema: {
      type: 'string',
      example: 'ticket_number,driver_id,work_date,hours,revenue_cents\r\nT-1,<driver id>,2025-03-14,8.5,125000\r\n',
    },
  })
  @ApiOperation({
    summary: 'Upload tickets as CSV (RFC 4180), all or nothing.',
    description:
      'A header row names the columns (ticket_number, driver_id, work_date, hours, tons, yards, loads, ' +
      'revenue_cents) in any order; an empty cell means absent; at most 5,000 data rows. Errors read ' +
      '`row <n>: <column>` where n is the spreadsheet row (the header is row 1); a syntax error names its line.',
  })
  @ApiCreatedResponse({ type: TicketUploadResultDto })
  upload(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<TicketUploadResultDto> {
    return this.tickets.uploadCsv(principal, body, requestId);
  }

  @Get()
  @Scopes('payroll:read')
  @ApiOperation({ summary: "List the org's tickets, latest work date first." })
  @ApiOkResponse({ type: TicketPageDto })
  list(@Query() query: TicketListQueryDto): Promise<TicketPageDto> {
    return this.tickets.list(query);
  }
}
