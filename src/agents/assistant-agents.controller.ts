import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { PageQueryDto, RequestId } from '../../libs/http';
import { AssistantService } from './assistant.service';
import { ConversationsService } from './conversations.service';
import {
  AgentListDto,
  AskDto,
  AskResultDto,
  ConversationDto,
  ConversationPageDto,
  EscalationPageDto,
  ToolListDto,
} from './dto/agents.dto';
import { AGENTS } from './registry/agent-registry';
import { TOOLS } from './tools/tool-catalog';

/** Assistant agents (not the call-center agents of /api/sessions/agents): they draft, humans approve. */
@ApiTags('assistant agents')
@Controller('api/agents')
export class AssistantAgentsController {
  constructor(
    private readonly assistant: AssistantService,
    private readonly conversations: ConversationsService,
  ) {}

  @Get()
  @Scopes('agents:read')
  @ApiOperation({ summary: 'The assistant agents: what each handles, its scopes and its tools.' })
  @ApiOkResponse({ type: AgentListDto })
  list(): AgentListDto {
    return {
      items: AGENTS.map((a) => ({ ...a, scopes: [...a.scopes], tools: [...a.tools], intents: [...a.intents] })),
    };
  }

  @Get('tools')
  @Scopes('agents:read')
  @ApiOperation({ summary: 'The tools agents use: schemas, scopes, kind, annotations, approval policy, timeout.' })
  @ApiOkResponse({ type: ToolListDto })
  tools(): ToolListDto {
    return { items: TOOLS.map((t) => ({ ...t, scopes: [...t.scopes], annotations: { ...t.annotations } })) };
  }

  @Post('ask')
  @HttpCode(200)
  @Scopes('agents:write')
  @ApiOperation({
    summary:
      'Ask an assistant agent. It answers from evidence; actions with side effects come back as proposals awaiting approval.',
  })
  @ApiOkResponse({ type: AskResultDto })
  @ApiForbiddenResponse({ description: 'The agent may not use a tool for you: the missing scope is named.' })
  ask(
    @Body() body: AskDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<AskResultDto> {
    return this.assistant.ask(principal, body, requestId);
  }

  @Get('conversations')
  @Scopes('agents:read')
  @ApiOperation({ summary: "The org's conversations with assistant agents, newest first." })
  @ApiOkResponse({ type: ConversationPageDto })
  conversationList(@Query() query: PageQueryDto): Promise<ConversationPageDto> {
    return this.conversations.list(query.limit ?? 50, query.cursor);
  }

  @Get('conversations/:id')
  @Scopes('agents:read')
  @ApiOperation({ summary: 'One conversation with every tool call (inputs, outputs, duration) and proposal.' })
  @ApiOkResponse({ type: ConversationDto })
  conversation(@Param('id', ParseUUIDPipe) id: string): Promise<ConversationDto> {
    return this.conversations.get(id);
  }

  @Get('escalations')
  @Scopes('agents:read')
  @ApiOperation({ summary: 'Questions and actions handed to a person, with why, newest first.' })
  @ApiOkResponse({ type: EscalationPageDto })
  escalations(@Query() query: PageQueryDto): Promise<EscalationPageDto> {
    return this.conversations.escalations(query.limit ?? 50, query.cursor);
  }
}
