import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { from, lastValueFrom, Observable } from 'rxjs';
import { TenantContext } from '../database';
import { PRINCIPAL, RequestWithPrincipal } from './principal';

/**
 * Runs every request of an org principal inside one transaction with `app.current_org` set, so
 * row-level security applies to all its queries and a failure rolls everything back.
 */
@Injectable()
export class TenantScopeInterceptor implements NestInterceptor {
  constructor(private readonly tenant: TenantContext) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const orgId = context.switchToHttp().getRequest<RequestWithPrincipal>()[PRINCIPAL]?.orgId;
    if (!orgId) return next.handle();
    return from(this.tenant.run(orgId, () => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}
