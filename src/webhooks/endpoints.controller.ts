import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { PageQueryDto, RequestId } from '../../libs/http';
import {
  CreatedEndpointDto,
  CreateEndpointDto,
  EndpointDto,
  EndpointPageDto,
  EndpointSecretDto,
  EventTypeListDto,
  TestEventAcceptedDto,
  TestEventDto,
  UpdateEndpointDto,
} from './dto/endpoint.dto';
import { EndpointsService } from './endpoints.service';
import { WEBHOOK_EVENT_DESCRIPTIONS, WEBHOOK_EVENT_TYPES } from './event-types';

@ApiTags('webhooks')
@Controller('api/webhooks')
export class EndpointsController {
  constructor(private readonly endpoints: EndpointsService) {}

  @Get('event-types')
  @Scopes('webhooks:read')
  @ApiOperation({ summary: 'The event types an endpoint can subscribe to.' })
  @ApiOkResponse({ type: EventTypeListDto })
  eventTypes(): EventTypeListDto {
    return { items: WEBHOOK_EVENT_TYPES.map((type) => ({ type, description: WEBHOOK_EVENT_DESCRIPTIONS[type] })) };
  }

  @Post('endpoints')
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'Register an endpoint. Its signing secret is in the response once; store it now.' })
  @ApiCreatedResponse({ type: CreatedEndpointDto })
  create(
    @Body() body: CreateEndpointDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<CreatedEndpointDto> {
    return this.endpoints.create(principal, body, requestId);
  }

  @Get('endpoints')
  @Scopes('webhooks:read')
  @ApiOperation({ summary: "List the org's endpoints (never their secrets), newest first." })
  @ApiOkResponse({ type: EndpointPageDto })
  list(@Query() query: PageQueryDto): Promise<EndpointPageDto> {
    return this.endpoints.list(query.limit, query.cursor);
  }

  @Get('endpoints/:id')
  @Scopes('webhooks:read')
  @ApiOperation({ summary: 'One endpoint with its breaker state (never its secret).' })
  @ApiOkResponse({ type: EndpointDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<EndpointDto> {
    return this.endpoints.get(id);
  }

  @Patch('endpoints/:id')
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'Change url, event_types, enabled, description, format or rate_limit_per_second.' })
  @ApiOkResponse({ type: EndpointDto })
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateEndpointDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<EndpointDto> {
    return this.endpoints.update(principal, id, body, requestId);
  }

  @Delete('endpoints/:id')
  @HttpCode(204)
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'Delete an endpoint: it gets no further deliveries and answers 404 from now on.' })
  @ApiNoContentResponse()
  remove(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<void> {
    return this.endpoints.remove(principal, id, requestId);
  }

  @Post('endpoints/:id/rotate-secret')
  @HttpCode(200)
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'New signing secret (shown once); the old one also signs for 24 hours.' })
  @ApiOkResponse({ type: EndpointSecretDto })
  rotateSecret(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<EndpointSecretDto> {
    return this.endpoints.rotateSecret(principal, id, requestId);
  }

  @Post('endpoints/:id/test')
  @HttpCode(202)
  @Scopes('webhooks:write')
  @ApiOperation({ summary: 'Queue a webhook.test event for this endpoint only.' })
  @ApiAcceptedResponse({ type: TestEventAcceptedDto })
  test(@Param('id', ParseUUIDPipe) id: string, @Body() body: TestEventDto): Promise<TestEventAcceptedDto> {
    return this.endpoints.sendTest(id, body?.message);
  }
}
