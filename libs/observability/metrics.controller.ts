import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../core';
import { MetricsService } from './metrics.service';

@ApiExcludeController()
// Probes and scrapes are never rate-limited.
@SkipThrottle()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    // prom-client writes a missing value (e.g. event-loop lag before its first sample) as
    // "Nan"; the exposition format spells it "NaN", and scrapers reject the other.
    const text = (await this.metrics.registry.metrics()).replace(/ Nan$/gm, ' NaN');
    res.type(this.metrics.registry.contentType).send(text);
  }
}
