import { Global, Module } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthGuard } from './auth.guard';
import { CredentialResolver } from './credential-resolver.service';
import { JwtKeysService } from './jwt-keys.service';
import { JwtStrategy } from './jwt.strategy';
import { OrgDirectory } from './org-directory.service';
import { PostgresThrottlerStorage, RateLimitCounterPruner, RateLimitStorageModule } from './postgres-throttler.storage';
import { RateLimitCheck } from './rate-limit.check';
import { RateLimitGuard } from './rate-limit.guard';
import { RlsIndicator } from './rls.indicator';
import { TenantScopeInterceptor } from './tenant-scope.interceptor';

/**
 * Authentication, authorisation, rate limits and the tenant transaction, applied globally in
 * this order: rate limit → auth (credentials + scopes) → tenant-scoped handler.
 */
@Global()
@Module({
  imports: [
    PassportModule,
    RateLimitStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [PostgresThrottlerStorage],
      // The policy (limits per plan or IP) lives in RateLimitGuard; these are fallbacks.
      useFactory: (storage: PostgresThrottlerStorage) => ({
        throttlers: [{ name: 'default', ttl: 3_600_000, limit: 1000 }],
        storage,
      }),
    }),
  ],
  providers: [
    CredentialResolver,
    JwtKeysService,
    JwtStrategy,
    OrgDirectory,
    RateLimitCounterPruner,
    RateLimitCheck,
    RlsIndicator,
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_INTERCEPTOR, useClass: TenantScopeInterceptor },
  ],
  exports: [CredentialResolver, RateLimitStorageModule],
})
export class AuthModule {}
