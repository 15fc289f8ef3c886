import { Controller, Get, Header, Req, Res, UnauthorizedException } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { AppConfig } from '../config';
import { Public } from '../core';
import { MetricsService } from './metrics.service';
import { operatorAccess } from './operator-access';

@ApiExcludeController()
// Scrapes are never rate-limited; a refused one costs a hash comparison, nothing more.
@SkipThrottle()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!operatorAccess(this.config, req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new UnauthorizedException('Metrics are read with Authorization: Bearer <METRICS_TOKEN>.');
    }
    // prom-client writes a missing value (e.g. event-loop lag before its first sample) as
    // "Nan"; the exposition format spells it "NaN", and scrapers reject the other.
    const text = (await this.metrics.registry.metrics()).replace(/ Nan$/gm, ' NaN');
    res.type(this.metrics.registry.contentType).send(text);
  }
}
