import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { ConfigError } from '../util/errors.ts';

/**
 * The GitHub App JWT (RS256), hand-written with node:crypto rather than
 * @octokit/auth-app: it is a dozen lines, keeps GitHub traffic on our one undici
 * Pool, and lets the injected Clock drive iat/exp.
 */

/** GitHub rejects an `exp` more than 10 minutes ahead; 9 leaves room for clock drift. */
export const APP_JWT_LIFETIME_S = 9 * 60;
/** `iat` is backdated so a GitHub clock slightly behind ours still accepts the token. */
export const APP_JWT_BACKDATE_S = 60;

/**
 * Parses the App's private key. GitHub hands out PKCS#1 (`BEGIN RSA PRIVATE KEY`);
 * PKCS#8 (`BEGIN PRIVATE KEY`) is accepted too. `source` names where the key came
 * from, for the error; the key itself never appears in it.
 */
export function loadAppPrivateKey(pem: string, source = 'the GitHub App private key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem.replace(/\\n/g, '\n'), format: 'pem' });
  } catch {
    throw new ConfigError([
      `${source} is not a PEM private key: use the .pem file downloaded from the App's settings ` +
        '(PKCS#1 "BEGIN RSA PRIVATE KEY" or PKCS#8 "BEGIN PRIVATE KEY")',
    ]);
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new ConfigError([`${source} is a ${key.asymmetricKeyType} key; GitHub Apps sign with RSA (RS256) keys`]);
  }
  return key;
}

export interface AppJwtClaims {
  iat: number;
  exp: number;
  iss: string;
}

export function appJwtClaims(issuer: string | number, nowMs: number): AppJwtClaims {
  const now = Math.floor(nowMs / 1000);
  return { iat: now - APP_JWT_BACKDATE_S, exp: now + APP_JWT_LIFETIME_S, iss: String(issuer) };
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A signed App JWT; `issuer` is the App's client id (GitHub's recommendation) or its numeric app id. */
export function createAppJwt(key: KeyObject, issuer: string | number, nowMs: number): string {
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(appJwtClaims(issuer, nowMs))}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url');
  return `${unsigned}.${signature}`;
}

/**
 * Reuses one JWT until a minute before it expires, so a burst of App calls
 * signs once instead of once per call.
 */
export class AppJwtSource {
  #token: string | undefined;
  #expiresAtMs = 0;
  readonly #key: KeyObject;
  readonly #issuer: string | number;

  constructor(key: KeyObject, issuer: string | number) {
    this.#key = key;
    this.#issuer = issuer;
  }

  get(nowMs: number): string {
    if (!this.#token || nowMs >= this.#expiresAtMs - 60_000) {
      this.#token = createAppJwt(this.#key, this.#issuer, nowMs);
      this.#expiresAtMs = appJwtClaims(this.#issuer, nowMs).exp * 1000;
    }
    return this.#token;
  }

  /** Forgets the cached JWT (after a 401, e.g. when the local clock jumped). */
  reset(): void {
    this.#token = undefined;
  }
}
