import { Controller, HttpStatus, Param, ParseUUIDPipe, Post, Req, Res } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { Public } from '../../libs/auth';
import { Consumes } from '../../libs/http';
import { InboundAcceptedDto } from './dto/source.dto';
import { InboundService } from './inbound.service';

@ApiTags('webhooks')
@Controller('api/webhooks/inbound')
export class InboundController {
  constructor(private readonly inbound: InboundService) {}

  /**
   * Public: the signature on the raw body is the credential. Not IP-rate-limited: a provider
   * calls from a few shared addresses for all of its customers, so a per-IP budget would throttle
   * every org's callbacks together (a bad signature costs one indexed lookup and one HMAC).
   */
  @Post(':source_id')
  @Public()
  @SkipThrottle()
  @Consumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOperation({
    summary:
      'Provider callback. twilio: X-Twilio-Signature; standard: webhook-id/-timestamp/-signature. 202 new, 200 duplicate, 401 bad signature or unknown source.',
  })
  @ApiAcceptedResponse({ type: InboundAcceptedDto, description: '{received: true}' })
  @ApiOkResponse({ type: InboundAcceptedDto, description: '{duplicate: true}' })
  @ApiUnauthorizedResponse({ description: 'Missing or invalid signature, or no such (live) source. Nothing stored.' })
  async receive(
    @Param('source_id', new ParseUUIDPipe({ errorHttpStatusCode: HttpStatus.NOT_FOUND })) sourceId: string,
    @Req() req: RawBodyRequest<Request>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<InboundAcceptedDto> {
    const { duplicate } = await this.inbound.receive({
      sourceId,
      headers: req.headers,
      rawBody: req.rawBody,
      mediaType: (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase(),
      requestUrl: `${req.protocol}://${req.get('host')}${req.originalUrl}`,
    });
    res.status(duplicate ? HttpStatus.OK : HttpStatus.ACCEPTED);
    return duplicate ? { duplicate: true } : { received: true };
  }
}
