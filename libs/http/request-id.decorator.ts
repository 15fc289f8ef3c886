import { createParamDecorator, ExecutionContext } from '@nestjs/common';

/** The request id (X-Request-Id, accepted or generated) for audit records and logs. */
export const RequestId = createParamDecorator((_: unknown, ctx: ExecutionContext): string | undefined => {
  const id = ctx.switchToHttp().getRequest<{ id?: unknown }>().id;
  return id === undefined ? undefined : String(id);
});
