import { createPrivateKey, type KeyObject } from 'node:crypto';
import githubAppJwt from 'universal-github-app-jwt';
import { ConfigError } from '../util/errors.ts';

/**
 * The GitHub App JWT (RS256), signed by universal-github-app-jwt (the library
 * @octokit/auth-app itself uses). Only the JWT comes from it: it makes no HTTP call,
 * so GitHub traffic stays on our one undici Pool, rate limiter and retry rules, and the
 * injected Clock still drives iat/exp through its `now` option.
 */

/** universal-github-app-jwt's lifetime: GitHub rejects an `exp` more than 10 minutes after `iat`. */
export const APP_JWT_LIFETIME_S = 10 * 60;
/** universal-github-app-jwt backdates `iat` by this much, so a GitHub clock slightly behind ours still accepts the token. */
export const APP_JWT_BACKDATE_S = 30;

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
  iss: string | number;
}

/**
 * The claims universal-github-app-jwt signs: `iat` backdated by 30 s (for a GitHub
 * clock slightly behind ours), `exp` = `iat` + 10 min, GitHub's maximum.
 */
export function appJwtClaims(issuer: string | number, nowMs: number): AppJwtClaims {
  const iat = Math.floor(nowMs / 1000) - APP_JWT_BACKDATE_S;
  return { iat, exp: iat + APP_JWT_LIFETIME_S, iss: issuer };
}

/**
 * The key as universal-github-app-jwt wants it: WebCrypto signs only PKCS#8, and the
 * library would otherwise convert a PKCS#1 key (what GitHub hands out) on every call.
 */
const pkcs8Pem = new WeakMap<KeyObject, string>();
function asPkcs8(key: KeyObject): string {
  let pem = pkcs8Pem.get(key);
  if (!pem) {
    pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
    pkcs8Pem.set(key, pem);
  }
  return pem;
}

/** A signed App JWT; `issuer` is the App's client id (GitHub's recommendation) or its numeric app id. */
export async function createAppJwt(key: KeyObject, issuer: string | number, nowMs: number): Promise<string> {
  const { token } = await githubAppJwt({ id: issuer, privateKey: asPkcs8(key), now: Math.floor(nowMs / 1000) });
  return token;
}

/**
 * Reuses one JWT until a minute before it expires, so a burst of App calls
 * signs once instead of once per call (and concurrent callers share one signing).
 */
export class AppJwtSource {
  #token: Promise<string> | undefined;
  #expiresAtMs = 0;
  readonly #key: KeyObject;
  readonly #issuer: string | number;

  constructor(key: KeyObject, issuer: string | number) {
    this.#key = key;
    this.#issuer = issuer;
  }

  get(nowMs: number): Promise<string> {
    if (!this.#token || nowMs >= this.#expiresAtMs - 60_000) {
      const token = createAppJwt(this.#key, this.#issuer, nowMs);
      this.#token = token;
      this.#expiresAtMs = appJwtClaims(this.#issuer, nowMs).exp * 1000;
      // A failed signing is not cached: the next call signs again.
      token.catch(() => {
        if (this.#token === token) this.#token = undefined;
      });
    }
    return this.#token;
  }

  /** Forgets the cached JWT (after a 401, e.g. when the local clock jumped). */
  reset(): void {
    this.#token = undefined;
  }
}
