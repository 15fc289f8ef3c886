import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { Consumes } from '../../libs/http';
import { CallsService } from './calls.service';
import { CallDto, EndCallDto, InboundCallDto, InboundCallResultDto } from './dto/call.dto';

@ApiTags('calls')
@Controller('api/calls')
export class CallsController {
  constructor(private readonly calls: CallsService) {}

  @Post('inbound')
  @Scopes('calls:write')
  @ApiOperation({
    summary:
      'A call arrives: ringing when reserved for a routable agent, queued when nobody is. Same external_id → that call (200).',
  })
  @ApiCreatedResponse({ type: InboundCallResultDto })
  async inbound(
    @Body() body: InboundCallDto,
    @Res({ passthrough: true }) res: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<InboundCallResultDto> {
    const { created, result } = await this.calls.inbound(body, principal);
    res.status(created ? 201 : 200);
    return result;
  }

  @Get(':call_id')
  @Scopes('sessions:read')
  @ApiOperation({ summary: 'One call: status, agent and session, offer count and its timestamps.' })
  @ApiOkResponse({ type: CallDto })
  get(@Param('call_id', ParseUUIDPipe) id: string): Promise<CallDto> {
    return this.calls.get(id);
  }

  @Post(':call_id/answer')
  @HttpCode(200)
  @Scopes('calls:write')
  @Consumes('application/json', 'text/plain')
  @ApiOperation({ summary: 'The agent picked up: ringing → in_progress (409 otherwise).' })
  @ApiOkResponse({ type: CallDto })
  answer(@Param('call_id', ParseUUIDPipe) id: string, @CurrentPrincipal() principal: Principal): Promise<CallDto> {
    return this.calls.answer(id, principal);
  }

  @Post(':call_id/end')
  @HttpCode(200)
  @Scopes('calls:write')
  @ApiOperation({
    summary: "End a call (completed; a queued call is abandoned). Idempotent: the agent's count drops once.",
  })
  @ApiOkResponse({ type: CallDto })
  end(
    @Param('call_id', ParseUUIDPipe) id: string,
    @Body() body: EndCallDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CallDto> {
    return this.calls.end(id, body?.reason, principal);
  }
}
