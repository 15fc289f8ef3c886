import { CanActivate, ExecutionContext, Injectable, SetMetadata, UnsupportedMediaTypeException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

export const CONSUMES = 'calmops:consumes';
const DEFAULT_TYPES = ['application/json'];

/** Media types a route accepts in its body (default: application/json only). */
export const Consumes = (...mediaTypes: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(CONSUMES, mediaTypes);

/** The media type and charset of a Content-Type header, lower-cased (charset undefined when absent). */
export function mediaTypeOf(header: string | undefined): { type: string; charset?: string } {
  const value = header ?? '';
  const charset = /;\s*charset=("?)([^";]+)\1/i.exec(value)?.[2]?.toLowerCase();
  return { type: value.split(';')[0].trim().toLowerCase(), charset };
}

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
    const { type: given, charset } = mediaTypeOf(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8') {
      throw new UnsupportedMediaTypeException(`charset "${charset}" is not accepted here; send UTF-8.`);
    }
    if (accepted.includes(given)) return true;
    throw new UnsupportedMediaTypeException(
      `Content-Type "${given || 'none'}" is not accepted here; send ${accepted.join(' or ')}.`,
    );
  }
}
