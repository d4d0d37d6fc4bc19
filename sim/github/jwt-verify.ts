import { createVerify, type KeyObject } from 'node:crypto';

/**
 * How GitHub checks an App JWT: RS256 signature against the App's public key,
 * `iss` = app id or client id, `iat` not in the future (beyond a little skew),
 * not expired, and `exp` at most 10 minutes after `iat`.
 */

export type JwtVerdict = { ok: true; issuer: string } | { ok: false; message: string };

export interface JwtCheckOptions {
  publicKey: KeyObject;
  /** Accepted `iss` values (app id and client id). */
  issuers: string[];
  nowMs: number;
  /** Allowed clock difference for `iat`, in seconds (60). */
  skewS?: number;
}

const DECODE_FAILED = 'A JSON web token could not be decoded';

export function verifyAppJwt(token: string, options: JwtCheckOptions): JwtVerdict {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, message: DECODE_FAILED };
  const [h, p, sig] = parts as [string, string, string];
  let header: { alg?: unknown };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, message: DECODE_FAILED };
  }
  if (header.alg !== 'RS256') return { ok: false, message: DECODE_FAILED };
  const signatureOk = createVerify('RSA-SHA256').update(`${h}.${p}`).verify(options.publicKey, Buffer.from(sig, 'base64url'));
  if (!signatureOk) return { ok: false, message: DECODE_FAILED };

  const now = Math.floor(options.nowMs / 1000);
  const skew = options.skewS ?? 60;
  if (!Number.isInteger(claims.iat)) {
    return { ok: false, message: "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued." };
  }
  if (!Number.isInteger(claims.exp)) {
    return { ok: false, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires." };
  }
  const iat = claims.iat as number;
  const exp = claims.exp as number;
  if (iat > now + skew) return { ok: false, message: "'Issued at' claim ('iat') must be an Integer representing a time in the past." };
  if (exp <= now) return { ok: false, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires." };
  if (exp - iat > 600 || exp > now + 600 + skew) return { ok: false, message: "'Expiration time' claim ('exp') is too far in the future." };
  const issuer = typeof claims.iss === 'number' || typeof claims.iss === 'string' ? String(claims.iss) : '';
  if (!options.issuers.includes(issuer)) return { ok: false, message: 'Integration not found' };
  return { ok: true, issuer };
}
