import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 'sha256=';
const HEX_LENGTH = 64;

/**
 * Checks `X-Hub-Signature-256` over the raw body against each secret (the current one,
 * then the previous one during a rotation) in constant time. Hand-written rather than
 * @octokit/webhooks-methods because that takes the payload as a string, and the HMAC
 * must be over the exact bytes GitHub sent.
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  if (!header || !header.startsWith(PREFIX) || header.length !== PREFIX.length + HEX_LENGTH) return false;
  const given = Buffer.from(header.slice(PREFIX.length), 'hex');
  if (given.length !== HEX_LENGTH / 2) return false;
  let ok = false;
  // Every secret is checked even after a match, so timing does not reveal which one matched.
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok;
}

/** `sha256=<hex>` for a body: what GitHub sends, used by the demo and tests. */
export function signBody(rawBody: Buffer | string, secret: string): string {
  return PREFIX + createHmac('sha256', secret).update(rawBody).digest('hex');
}
