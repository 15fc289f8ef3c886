import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import type { Request, Response } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { AppConfig } from '../config';
import { Public } from '../core';
import { operatorAccess } from '../observability';
import { EventLoopIndicator } from './core-indicators';
import { readinessBody, ReadinessService } from './readiness.service';

/**
 * Liveness judges the event-loop delay recorded since the previous verdict, at most once per
 * this many ms; probes in between get that verdict. (Judging every probe measured windows of a
 * fraction of a millisecond under load, and cost a percentile computation per request.)
 */
const LIVE_WINDOW_MS = 1000;

@ApiTags('health')
// Probes and scrapes are never rate-limited.
@SkipThrottle()
@Public()
@Controller('health')
export class HealthController {
  /** The last liveness verdict: the event-loop delay is judged over windows of at least LIVE_WINDOW_MS. */
  private liveAnswer?: { at: number; ok: boolean; result: unknown };

  constructor(
    private readonly health: HealthCheckService,
    private readonly eventLoop: EventLoopIndicator,
    private readonly readiness: ReadinessService,
    private readonly config: AppConfig,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process and its event loop respond. Never touches the database.' })
  @ApiOkResponse({ description: 'Alive' })
  @ApiServiceUnavailableResponse({ description: 'Event loop stalled' })
  async live(@Res() res: Response): Promise<void> {
    const now = performance.now();
    if (!this.liveAnswer || now - this.liveAnswer.at >= LIVE_WINDOW_MS) {
      // One turn through the timers first: the lag of a stall that has just ended is recorded
      // by the sampler's tick, which may not have run yet when this request is handled.
      await new Promise((resolve) => setTimeout(resolve, 0));
      const outcome = await this.health
        .check([async () => this.eventLoop.check()])
        .then((result) => ({ ok: true, result }))
        .catch((err: { getResponse?: () => unknown }) => ({ ok: false, result: err.getResponse?.() }));
      this.liveAnswer = { at: now, ...outcome };
    }
    res.status(this.liveAnswer.ok ? 200 : 503).json(this.liveAnswer.result);
  }

  @Get('ready')
  @ApiOperation({
    summary:
      "Readiness: database answers, no migration pending, queue running, not shutting down. Each check's details only with Bearer METRICS_TOKEN (or outside production without one); otherwise the status alone.",
  })
  @ApiOkResponse({ description: 'Ready for traffic' })
  @ApiServiceUnavailableResponse({ description: 'Not ready; each check says why' })
  async ready(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { ready, result } = await this.readiness.check();
    res.status(ready ? 200 : 503).setHeader('Cache-Control', 'no-store');
    res.json(readinessBody(result, operatorAccess(this.config, req.headers.authorization)));
  }
}
