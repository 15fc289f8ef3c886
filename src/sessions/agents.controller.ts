import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { PageQueryDto, RequestId } from '../../libs/http';
import { AgentsService } from './agents.service';
import { AgentDto, AgentPageDto, CreateAgentDto } from './dto/agent.dto';

@ApiTags('sessions')
@Controller('api/sessions/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @Scopes('sessions:write')
  @ApiOperation({ summary: 'Add a call-center agent. A repeated external_ref within the org is a 409.' })
  @ApiCreatedResponse({ type: AgentDto })
  create(
    @Body() body: CreateAgentDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<AgentDto> {
    return this.agents.create(principal, body, requestId);
  }

  @Get()
  @Scopes('sessions:read')
  @ApiOperation({ summary: "List the org's agents, newest first." })
  @ApiOkResponse({ type: AgentPageDto })
  list(@Query() query: PageQueryDto): Promise<AgentPageDto> {
    return this.agents.list(query);
  }

  @Get(':agent_id')
  @Scopes('sessions:read')
  @ApiOperation({ summary: 'One agent.' })
  @ApiOkResponse({ type: AgentDto })
  get(@Param('agent_id', ParseUUIDPipe) id: string): Promise<AgentDto> {
    return this.agents.get(id);
  }
}
