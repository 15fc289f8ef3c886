import { UnauthorizedException } from '@nestjs/common';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';

/**
 * What was wrong with a bearer token, in words a client can act on, without echoing the token,
 * the expected audience or issuer, or anything of a key.
 */
export function bearerProblem(info: unknown): string {
  if (info instanceof UnauthorizedException) return info.message;
  const name = (info as { name?: string } | undefined)?.name;
  const message = String((info as { message?: string } | undefined)?.message ?? '');
  if (name === 'TokenExpiredError') return 'The bearer token has expired.';
  if (name === 'NotBeforeError') return 'The bearer token is not valid yet (nbf is in the future).';
  if (name === 'JsonWebTokenError') {
    if (/^jwt malformed|^invalid token|^jwt must be|unexpected token|not valid json/i.test(message)) {
      return 'The bearer token is malformed (not a signed JWT).';
    }
    if (/invalid signature/i.test(message)) return 'The bearer token signature does not verify.';
    if (/audience invalid/i.test(message)) return 'The bearer token was issued for another audience.';
    if (/issuer invalid/i.test(message)) return 'The bearer token was issued by another issuer.';
    if (/signature is required/i.test(message)) return 'The bearer token is not signed.';
    if (/invalid algorithm/i.test(message)) return 'The bearer token is signed with an algorithm not accepted here.';
  }
  return 'The bearer token is invalid.';
}

/** passport-jwt behind Nest, with a 401 that says what was wrong (bearerProblem). */
export class BearerGuard extends PassportAuthGuard('jwt') {
  override handleRequest<T>(err: unknown, user: T, info: unknown): T {
    if (err) throw err instanceof UnauthorizedException ? err : new UnauthorizedException(bearerProblem(err));
    if (!user) throw new UnauthorizedException(bearerProblem(info));
    return user;
  }
}
