import { CanActivate, ExecutionContext, Injectable, SetMetadata, UnsupportedMediaTypeException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

export const CONSUMES = 'calmops:consumes';
const DEFAULT_TYPES = ['application/json'];

/** Media types a route accepts in its body (default: application/json only). */
export const Consumes = (...mediaTypes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(CONSUMES, mediaTypes);

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** A body in a media type the route does not read is a 415, not a silently empty body. */
@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !hasBody(req)) return true;
    const accepted =
      this.reflector.getAllAndOverride<string[]>(CONSUMES, [context.getHandler(), context.getClass()]) ?? DEFAULT_TYPES;
    const given = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (accepted.includes(given)) return true;
    throw new UnsupportedMediaTypeException(
      `Content-Type "${given || 'none'}" is not accepted here; send ${accepted.join(' or ')}.`,
    );
  }
}
