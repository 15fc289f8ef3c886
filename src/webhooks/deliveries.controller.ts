import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Scopes } from '../../libs/auth';
import type { Principal } from '../../libs/auth';
import { RequestId } from '../../libs/http';
import { DeliveriesService } from './deliveries.service';
import {
  DeliveryAcceptedDto,
  DeliveryDetailDto,
  DeliveryListQueryDto,
  DeliveryPageDto,
  RecoverAcceptedDto,
  RecoverDeliveriesDto,
} from './dto/delivery.dto';

@ApiTags('webhooks')
@Controller('api/webhooks')
export class DeliveriesController {
  constructor(private readonly deliveries: DeliveriesService) {}

  @Get('deliveries')
  @Scopes('webhooks:read')
  @ApiOperation({ summary: "The org's outbound deliveries, newest first; filter by endpoint, status or event type." })
  @ApiOkResponse({ type: DeliveryPageDto })
  list(@Query() query: DeliveryListQueryDto): Promise<DeliveryPageDto> {
    return this.deliveries.list(query);
  }

  @Get('deliveries/:id')
  @Scopes('webhooks:read')
  @ApiOperation({
    summary: 'One delivery with its payload and every attempt (status, latency, error, response start).',
  })
  @ApiOkResponse({ type: DeliveryDetailDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<DeliveryDetailDto> {
    return this.deliveries.get(id);
  }

  @Post('deliveries/:id/redeliver')
  @HttpCode(202)
  @Scopes('webhooks:write')
  @ApiOperation({
    summary: 'Send the delivery again now (same webhook-id); attempts keep counting. 409 while in flight.',
  })
  @ApiAcceptedResponse({ type: DeliveryAcceptedDto })
  redeliver(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<DeliveryAcceptedDto> {
    return this.deliveries.redeliver(principal, id, requestId);
  }

  @Post('endpoints/:id/recover')
  @HttpCode(202)
  @Scopes('webhooks:write')
  @ApiOperation({
    summary: "Re-send the endpoint's failed deliveries created in [since, until) (at most 10,000 per call).",
  })
  @ApiAcceptedResponse({ type: RecoverAcceptedDto })
  recover(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: RecoverDeliveriesDto,
    @CurrentPrincipal() principal: Principal,
    @RequestId() requestId?: string,
  ): Promise<RecoverAcceptedDto> {
    return this.deliveries.recover(principal, id, body, requestId);
  }
}
