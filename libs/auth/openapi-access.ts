import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { routeAccess, RouteAccess } from './route-access';

type Operation = {
  operationId?: string;
  description?: string;
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  'x-required-scopes'?: string[];
  'x-any-of-scopes'?: string[];
};

export const PROBLEM_SCHEMA = 'Problem';

/** RFC 9457 problem details, as every error of the API is answered. */
const PROBLEM: Record<string, unknown> = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    request_id: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA}` } } },
});

/** The handler and controller behind each operation id (Nest's default `Controller_method`). */
function handlersByOperationId(app: INestApplication): Map<string, { handler: object; controller: object }> {
  const discovery = app.get(DiscoveryService, { strict: false });
  const scanner = app.get(MetadataScanner, { strict: false });
  const out = new Map<string, { handler: object; controller: object }>();
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as { name: string; prototype: Record<string, object> } | null;
    if (!controller) continue;
    for (const method of scanner.getAllMethodNames(controller.prototype)) {
      const id = `${controller.name}_${method}`;
      if (out.has(id)) throw new Error(`two controllers answer to the operation id ${id}`);
      out.set(id, { handler: controller.prototype[method], controller });
    }
  }
  return out;
}

function describeAccess(op: Operation, access: RouteAccess): void {
  if (access.public) {
    // Public routes carry no lock in Swagger UI, whatever the global requirement says.
    op.security = [];
    return;
  }
  const needs: string[] = [];
  if (access.scopes.length) {
    op['x-required-scopes'] = access.scopes;
    needs.push(`every scope of ${access.scopes.map((s) => `\`${s}\``).join(', ')}`);
  }
  if (access.anyOf.length) {
    op['x-any-of-scopes'] = access.anyOf;
    needs.push(`one scope of ${access.anyOf.map((s) => `\`${s}\``).join(', ')}`);
  }
  const who = access.platform ? '' : " Acts inside the caller's org (platform keys are refused).";
  op.description = `${op.description ? `${op.description}\n\n` : ''}**Access:** needs ${needs.join(' and ')}.${who}`;
  op.responses = {
    ...op.responses,
    '401': problem('No valid credentials (a missing, malformed, expired or revoked key or token).'),
    '403': problem(`The credentials lack a needed scope (needs ${needs.join(' and ')}).`),
  };
}

/**
 * Writes into the document what the global guard enforces on each operation: public routes
 * without a security requirement, the others with the scopes they need (`x-required-scopes`,
 * `x-any-of-scopes`, a sentence in the description) and their 401/403 problem responses.
 */
export function documentRouteAccess(app: INestApplication, document: OpenAPIObject): OpenAPIObject {
  const reflector = app.get(Reflector, { strict: false });
  const handlers = handlersByOperationId(app);
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, [PROBLEM_SCHEMA]: PROBLEM },
  };
  for (const item of Object.values(document.paths)) {
    for (const op of Object.values(item) as Operation[]) {
      if (!op || typeof op !== 'object' || !op.operationId) continue;
      const found = handlers.get(op.operationId);
      if (!found) throw new Error(`no handler found for the operation ${op.operationId}`);
      describeAccess(op, routeAccess(reflector, found.handler, found.controller));
    }
  }
  return document;
}
