import type { NextFunction, Request, Response } from 'express';
import { requestIdFor } from './logging';
import type { MetricsService } from './metrics.service';

/**
 * The first Express middleware of every HTTP app, ahead of the body parsers: each request gets
 * its id (accepted or generated, echoed in X-Request-Id) and is observed in
 * http_request_duration_seconds by its route template (not the raw URL, to bound cardinality),
 * so a request refused by a parser (malformed JSON, 413, a broken encoding) carries its id and
 * is counted like any other.
 */
export function requestObserver(metrics: MetricsService) {
  return (req: Request, res: Response, next: NextFunction): void => {
    (req as Request & { id?: string }).id = requestIdFor(req, res);
    const end = metrics.httpRequestDuration.startTimer();
    res.once('finish', () => {
      const template = (req.route as { path?: string } | undefined)?.path;
      // Nest answers unknown paths through a catch-all route, and a parser refuses a body
      // before any route matched: keep both out of route labels.
      const route = template && !template.includes('{*') ? `${req.baseUrl}${template}` : 'unmatched';
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };
}
