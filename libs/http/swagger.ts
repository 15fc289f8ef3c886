import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentRouteAccess } from '../auth/openapi-access';

export const API_KEY_SCHEME = 'api-key';
export const BEARER_SCHEME = 'bearer';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('CalmOps API')
    .setDescription(
      'Multi-tenant operations backend. Authenticate with `Authorization: Bearer <jwt>` or `X-API-Key: <key>`. ' +
        'Bodies and query parameters are snake_case; errors are application/problem+json (RFC 9457).',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SCHEME)
    .addSecurityRequirements(BEARER_SCHEME)
    .addSecurityRequirements(API_KEY_SCHEME)
    .build();
  // Security and 401/403 come from the metadata the guard reads, never from hand-written text.
  return documentRouteAccess(app, SwaggerModule.createDocument(app, config));
}

/** Swagger UI at /docs, the OpenAPI 3 JSON at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
