import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { AppConfig } from '../config';
import { setupSwagger } from './swagger';

/**
 * Express-level settings applied to every HTTP app (api, all, tests): security headers, CORS,
 * body size limits and Swagger. Nest-level behaviour lives in HttpModule.
 */
export function configureHttpApp(app: NestExpressApplication, config: AppConfig): void {
  app.disable('x-powered-by');
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
  app.useBodyParser('json', { limit });
  app.useBodyParser('urlencoded', { limit, extended: false });
  app.useBodyParser('text', { limit, type: ['text/plain', 'text/csv'] });
  if (config.get('SWAGGER_ENABLED')) setupSwagger(app);
}
