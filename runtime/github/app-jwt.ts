import { createPrivateKey, type KeyObject } from 'node:crypto';
import githubAppJwt from 'universal-github-app-jwt';
import { ConfigError } from '../util/errors.ts';

/**
 * The GitHub App JWT (RS256), signed by universal-github-app-jwt (gr2m's, what
 * @octokit/auth-app uses) rather than by hand. Only the JWT: installation tokens stay on
 * our one undici Pool, rate limiter and retry rules (runtime/github/installation-tokens.ts),
 * which @octokit/auth-app would replace with its own request stack. The injected Clock
 * still drives iat/exp through the library's `now`.
 */

/** The library's claims: `iat` 30 s in the past (clock skew), `exp` 10 minutes after that. */
export const APP_JWT_BACKDATE_S = 30;
export const APP_JWT_LIFETIME_S = 10 * 60 - APP_JWT_BACKDATE_S;

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

/** A signed App JWT; `issuer` is the App's client id (GitHub's recommendation) or its numeric app id. */
export async function createAppJwt(key: KeyObject, issuer: string | number, nowMs: number): Promise<string> {
  return (await signAppJwt(key, issuer, nowMs)).token;
}

async function signAppJwt(key: KeyObject, issuer: string | number, nowMs: number): Promise<{ token: string; expiresAtMs: number }> {
  // The library reads PKCS#8 PEM (it converts PKCS#1 itself); exporting the parsed key hands it
  // one normal form whatever line endings or escaping the configured PEM arrived with.
  const privateKey = key.export({ type: 'pkcs8', format: 'pem' }) as string;
  const { token, expiration } = await githubAppJwt({ id: issuer, privateKey, now: Math.floor(nowMs / 1000) });
  return { token, expiresAtMs: expiration * 1000 };
}

/**
 * Reuses one JWT until a minute before it expires, so a burst of App calls signs once
 * instead of once per call; callers arriving while it is being signed share that signing.
 */
export class AppJwtSource {
  #cached: { token: string; expiresAtMs: number } | undefined;
  #signing: Promise<{ token: string; expiresAtMs: number }> | undefined;
  readonly #key: KeyObject;
  readonly #issuer: string | number;

  constructor(key: KeyObject, issuer: string | number) {
    this.#key = key;
    this.#issuer = issuer;
  }

  async get(nowMs: number): Promise<string> {
    if (this.#cached && nowMs < this.#cached.expiresAtMs - 60_000) return this.#cached.token;
    this.#signing ??= signAppJwt(this.#key, this.#issuer, nowMs).finally(() => { this.#signing = undefined; });
    this.#cached = await this.#signing;
    return this.#cached.token;
  }

  /** Forgets the cached JWT (after a 401, e.g. when the local clock jumped). */
  reset(): void {
    this.#cached = undefined;
  }
}
