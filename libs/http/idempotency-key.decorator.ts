import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/**
 * The raw `Idempotency-Key` header (optional; the use case validates it). A param decorator
 * of our own rather than `@Headers('idempotency-key')`, which Swagger would list as a second,
 * required header beside the method's `@ApiHeader`.
 */
export const IdempotencyKey = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const value = ctx.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers[
    'idempotency-key'
  ];
  return Array.isArray(value) ? value.join(', ') : value;
});

/** The validation error of a malformed Idempotency-Key (1-200 visible ASCII characters), or null. */
export function idempotencyKeyError(key: string | undefined): { field: string; message: string } | null {
  if (key === undefined || /^[\x21-\x7e]{1,200}$/.test(key)) return null;
  return { field: 'Idempotency-Key', message: 'must be 1-200 visible ASCII characters' };
}
