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
