import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import { AppConfig } from '../config';
import { MetricsService, requestObserver } from '../observability';
import { answerClientError } from './client-errors';
import { mediaTypeOf } from './content-type.guard';
import { setupSwagger } from './swagger';

/** Text bodies are read only in UTF-8 (or without a charset); another charset is a 415. */
function utf8(type: string) {
  return (req: Request) => {
    const given = mediaTypeOf(req.headers['content-type']);
    return given.type === type && (given.charset === undefined || given.charset === 'utf-8');
  };
}

/**
 * Express-level settings applied to every HTTP app (api, all, tests): security headers, CORS,
 * body size limits and Swagger. Nest-level behaviour lives in HttpModule.
 */
export function configureHttpApp(app: NestExpressApplication, config: AppConfig): void {
  // First of all, so that even a request a parser refuses has an id and is counted.
  app.use(requestObserver(app.get(MetricsService)));
  (app.getHttpServer() as Server).on('clientError', answerClientError);
  app.disable('x-powered-by');
  // Responses are dynamic and mostly no-store: a SHA-1 ETag of every JSON body bought nothing.
  app.set('etag', false);
  app.set('trust proxy', config.get('TRUST_PROXY'));
  app.use(
    helmet({
      // Swagger UI needs inline styles and scripts from its own bundle.
      contentSecurityPolicy: config.get('SWAGGER_ENABLED') ? false : undefined,
    }),
  );
  const origins = config.get('CORS_ORIGINS');
  app.enableCors({
    origin: origins === '*' ? true : origins,
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'],
  });
  const limit = config.get('HTTP_BODY_LIMIT');
  app.useBodyParser('json', { limit, type: utf8('application/json') });
  app.useBodyParser('urlencoded', { limit, extended: false });
  app.useBodyParser('text', { limit, type: (req: Request) => utf8('text/plain')(req) || utf8('text/csv')(req) });
  if (config.get('SWAGGER_ENABLED')) setupSwagger(app);
}
