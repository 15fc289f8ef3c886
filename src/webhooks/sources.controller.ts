import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { PageQueryDto, RequestId } from '../../libs/http';
import { CreatedSourceDto, CreateSourceDto, SourceDto, SourcePageDto } from './dto/source.dto';
import { SourcesService } from './sources.service';

@ApiTags('webhooks')
@Controller('api/webhooks/sources')
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Post()
  @Scopes('webhooks:write')
  @ApiOperation({
    summary:
      'Register an inbound source. standard: the whsec_ secret is in this response only; twilio: give the auth_token (stored encrypted, never returned).',
  })
  @ApiCreatedResponse({ type: CreatedSourceDto })
  create(
    @Body() body: CreateSourceDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<CreatedSourceDto> {
    return this.sources.create(principal, body, requestId);
  }

  @Get()
  @Scopes('webhooks:read')
  @ApiOperation({ summary: "List the org's inbound sources, newest first (never their secrets)." })
  @ApiOkResponse({ type: SourcePageDto })
  list(@Query() query: PageQueryDto): Promise<SourcePageDto> {
    return this.sources.list(query);
  }

  @Get(':source_id')
  @Scopes('webhooks:read')
  @ApiOperation({ summary: 'One inbound source (never its secret or auth token).' })
  @ApiOkResponse({ type: SourceDto })
  get(@Param('source_id', ParseUUIDPipe) id: string): Promise<SourceDto> {
    return this.sources.get(id);
  }

  @Delete(':source_id')
  @HttpCode(204)
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'Delete a source (soft): its inbound URL answers 401 from now on.' })
  @ApiNoContentResponse()
  async remove(
    @Param('source_id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<void> {
    await this.sources.remove(principal, id, requestId);
  }
}
