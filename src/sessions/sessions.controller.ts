import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query } from '@nestjs/common';
import {
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { Consumes } from '../../libs/http';
import {
  ChangeStatusDto,
  HeartbeatDto,
  LoginDto,
  SessionDto,
  SessionListQueryDto,
  SessionPageDto,
} from './dto/session.dto';
import { SessionsService } from './sessions.service';

@ApiTags('sessions')
@Controller('api/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @Scopes('sessions:read')
  @ApiOperation({
    summary: 'Open sessions, newest login first, with derived presence and routability.',
    description:
      'presence: disconnected when the device is not connected, stale when the last heartbeat is ' +
      'SESSION_ROUTABLE_HEARTBEAT_SECONDS old or older, else connected. routable: available, no pending ' +
      'status, connected, below capacity, past wrap-up and offer cooldown.',
  })
  @ApiOkResponse({ type: SessionPageDto })
  list(@Query() query: SessionListQueryDto): Promise<SessionPageDto> {
    return this.sessions.list(query);
  }

  @Post('login')
  @Scopes('sessions:write')
  @ApiOperation({
    summary: "Start an agent's session (available). Closes the agent's open session as superseded.",
    description: 'The superseded session keeps its live calls until they end. Queued calls are offered at once.',
  })
  @ApiCreatedResponse({ type: SessionDto })
  login(@Body() body: LoginDto, @CurrentPrincipal() principal: Principal): Promise<SessionDto> {
    return this.sessions.login(body, principal);
  }

  @Get(':session_id')
  @Scopes('sessions:read')
  @ApiOperation({ summary: 'One session, open or closed.' })
  @ApiOkResponse({ type: SessionDto })
  get(@Param('session_id', ParseUUIDPipe) id: string): Promise<SessionDto> {
    return this.sessions.get(id);
  }

  @Post(':session_id/heartbeat')
  @HttpCode(204)
  @Scopes('sessions:write')
  @ApiOperation({ summary: 'The agent is alive. A closed session is a 409.' })
  @ApiNoContentResponse()
  heartbeat(
    @Param('session_id', ParseUUIDPipe) id: string,
    @Body() body: HeartbeatDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    return this.sessions.heartbeat(id, body.device_connected, principal);
  }

  @Put(':session_id/status')
  @Scopes('sessions:write')
  @ApiOperation({
    summary: 'Choose available, away (reason required) or offline.',
    description:
      'Away/offline while calls are in hand becomes pending_status, applied when the last call ends. ' +
      'Available applies at once and cancels a pending change. The current status again is a no-op. ' +
      'A closed session is a 409.',
  })
  @ApiOkResponse({ type: SessionDto })
  setStatus(
    @Param('session_id', ParseUUIDPipe) id: string,
    @Body() body: ChangeStatusDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SessionDto> {
    return this.sessions.setStatus(id, body, principal);
  }

  @Post(':session_id/logout')
  @HttpCode(200)
  @Scopes('sessions:write')
  @Consumes('application/json', 'text/plain')
  @ApiConsumes('application/json', 'text/plain')
  @ApiOperation({
    summary: 'End the session (idempotent). Any body, or none, is ignored, so navigator.sendBeacon works.',
    description: 'Live calls are not dropped: they stay on the closed session until they end.',
  })
  @ApiOkResponse({ type: SessionDto })
  logout(
    @Param('session_id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SessionDto> {
    return this.sessions.logout(id, principal);
  }
}
