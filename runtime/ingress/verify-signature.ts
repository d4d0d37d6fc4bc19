import { verify } from '@octokit/webhooks-methods';

/** Decodes strictly: a byte sequence that is not UTF-8 cannot be a body GitHub signed. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks `X-Hub-Signature-256` over the body against each secret (the current one, then the
 * previous one during a rotation) with @octokit/webhooks-methods' `verify`, which compares in
 * constant time. That API takes the payload as a string and signs its UTF-8 encoding, so the
 * raw bytes are decoded strictly first: for valid UTF-8 the round trip gives back exactly the
 * bytes received (what GitHub signed); anything else is refused rather than silently repaired.
 * Returns the decoded body for JSON parsing, or undefined when no secret matches.
 */
export async function verifySignature(rawBody: Buffer, header: string | undefined, secrets: readonly string[]): Promise<string | undefined> {
  if (!header || !/^sha256=[0-9a-f]{64}$/.test(header)) return undefined;
  let body: string;
  try {
    body = utf8.decode(rawBody);
  } catch {
    return undefined;
  }
  // Every secret is checked even after a match, so timing does not reveal which one matched.
  const verdicts = await Promise.all(secrets.filter(Boolean).map((secret) => verify(secret, body, header)));
  return verdicts.includes(true) ? body : undefined;
}
