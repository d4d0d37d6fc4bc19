import { verify } from '@octokit/webhooks-methods';

const PREFIX = 'sha256=';
const HEX_LENGTH = 64;
/** Strict: a byte sequence that is not UTF-8 throws instead of being repaired with U+FFFD; a BOM is kept, as toString would. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks `X-Hub-Signature-256` over the raw body against each secret (every App's
 * current one, then previous ones during a rotation) with @octokit/webhooks-methods'
 * `verify`, which compares in constant time.
 *
 * `verify` only takes the payload as a string and HMACs its UTF-8 encoding, while the
 * HMAC must be over the exact bytes GitHub sent. So the body is decoded strictly, once:
 * valid UTF-8 decodes to a string whose encoding is the very same bytes, and a body that
 * is not valid UTF-8 (lenient decoding would swap bytes for U+FFFD, so the HMAC would be
 * over other bytes) is refused outright — GitHub always sends UTF-8 JSON.
 *
 * Returns the index of the matching secret (so the caller can tell which App sent it) and
 * the decoded body (parsed next, not decoded again), or undefined. Every secret is checked
 * even after a match, so timing does not reveal which one matched.
 */
export async function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): Promise<{ secret: number; body: string } | undefined> {
  // Only the SHA-256 header counts: a sha1-only delivery (X-Hub-Signature) is refused.
  if (!header || !header.startsWith(PREFIX) || header.length !== PREFIX.length + HEX_LENGTH) return undefined;
  if (rawBody.length === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(rawBody);
  } catch {
    return undefined;
  }
  let matched = -1;
  for (let i = 0; i < secrets.length; i++) {
    const secret = secrets[i];
    if (!secret) continue;
    if ((await verify(secret, text, header)) && matched < 0) matched = i;
  }
  return matched < 0 ? undefined : { secret: matched, body: text };
}
