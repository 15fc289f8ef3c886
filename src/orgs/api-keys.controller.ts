import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { PageQueryDto, RequestId } from '../../libs/http';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyPageDto, CreatedApiKeyDto, CreateApiKeyDto } from './dto/api-key.dto';

@ApiTags('api-keys')
@Controller('api/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @Scopes('keys:write')
  @ApiOperation({ summary: 'Create an API key. The key is in the response once; store it now.' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(
    @Body() body: CreateApiKeyDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.create(principal, body, requestId);
  }

  @Get()
  @Scopes('keys:read')
  @ApiOperation({ summary: "List the org's API keys (never the keys themselves), newest first." })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Query() query: PageQueryDto): Promise<ApiKeyPageDto> {
    return this.keys.list(query.limit, query.cursor);
  }

  @Delete(':id')
  @HttpCode(204)
  @Scopes('keys:write')
  @ApiOperation({ summary: 'Revoke an API key (it stays listed, with revoked_at).' })
  @ApiNoContentResponse()
  revoke(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<void> {
    return this.keys.revoke(principal, id, requestId);
  }
}
