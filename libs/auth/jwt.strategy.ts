import { Injectable, UnauthorizedException } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config';
import { JwtKeysService } from './jwt-keys.service';
import { OrgDirectory } from './org-directory.service';
import { Principal } from './principal';
import { isCallAgentBound, resolveScopes } from './scopes';

export const CLOCK_SKEW_SECONDS = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface Claims {
  sub?: unknown;
  org_id?: unknown;
  roles?: unknown;
  scope?: unknown;
  exp?: unknown;
}

/** Bearer tokens via passport-jwt: algorithm allow-list, `exp` required, ≤ 30 s clock skew. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    keys: JwtKeysService,
    private readonly orgs: OrgDirectory,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_req: unknown, rawJwt: string, done: (err: unknown, key?: string) => void) => {
        keys.keyFor(rawJwt).then(
          // jsonwebtoken accepts a KeyObject; passport-jwt's types only name strings.
          (key) => done(null, key as unknown as string),
          (err: unknown) => done(err),
        );
      },
      algorithms: keys.algorithms,
      issuer: config.get('JWT_ISSUER'),
      audience: config.get('JWT_AUDIENCE'),
      ignoreExpiration: false,
      jsonWebTokenOptions: { clockTolerance: CLOCK_SKEW_SECONDS },
    });
  }

  async validate(claims: Claims): Promise<Principal> {
    if (typeof claims.exp !== 'number') throw new UnauthorizedException('The token has no expiry (exp).');
    if (typeof claims.sub !== 'string' || !claims.sub) throw new UnauthorizedException('The token has no subject.');
    if (typeof claims.org_id !== 'string' || !UUID.test(claims.org_id)) {
      throw new UnauthorizedException('The token has no valid org_id claim.');
    }
    const plan = await this.orgs.planOf(claims.org_id);
    if (!plan) throw new UnauthorizedException('The token names an unknown org.');
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    const granted = resolveScopes(roles, scopes);
    granted.delete('platform:admin');
    return {
      kind: 'jwt',
      subject: claims.sub,
      orgId: claims.org_id,
      plan,
      scopes: granted,
      ...(isCallAgentBound(roles) ? { callAgentRef: claims.sub } : {}),
    };
  }
}
