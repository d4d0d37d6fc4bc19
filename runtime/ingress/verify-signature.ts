import { verify } from '@octokit/webhooks-methods';

const PREFIX = 'sha256=';
const HEX_LENGTH = 64;

/**
 * Checks `X-Hub-Signature-256` over the raw body against each secret (every App's
 * current one, then previous ones during a rotation) with @octokit/webhooks-methods'
 * `verify`, which compares in constant time.
 *
 * `verify` only takes the payload as a string and HMACs its UTF-8 encoding, while the
 * HMAC must be over the exact bytes GitHub sent. So the body is decoded once and the
 * string is used only if it encodes back to the very same bytes: a body that is not
 * valid UTF-8 (decoding would swap bytes for U+FFFD, so the HMAC would be over other
 * bytes) is refused outright — GitHub always sends UTF-8 JSON.
 *
 * Returns the index of the matching secret (so the caller can tell which App sent it),
 * or -1. Every secret is checked even after a match, so timing does not reveal which
 * one matched.
 */
export async function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): Promise<number> {
  // Only the SHA-256 header counts: a sha1-only delivery (X-Hub-Signature) is refused.
  if (!header || !header.startsWith(PREFIX) || header.length !== PREFIX.length + HEX_LENGTH) return -1;
  if (rawBody.length === 0) return -1;
  const text = rawBody.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(rawBody)) return -1;
  let matched = -1;
  for (let i = 0; i < secrets.length; i++) {
    const secret = secrets[i];
    if (!secret) continue;
    if ((await verify(secret, text, header)) && matched < 0) matched = i;
  }
  return matched;
}
