import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * `secure:` values in a stack file that are not real Pulumi ciphertext: the example stacks
 * ship `v1:PLACEHOLDER-…` so that they parse, and `pulumi up` would fail to decrypt them
 * (or, worse, a hand-written plaintext would be taken for one). Pulumi writes
 * `v1:<base64 nonce>:<base64 ciphertext>` for passphrase and cloud secrets providers alike
 * (sdk/go/common/resource/config/crypt.go, symmetricCrypter.EncryptValue).
 */
const CIPHERTEXT = /^v1:[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/;

export interface PlaceholderSecret {
  /** `runs-fleet:github.privateKey` */
  path: string;
  /** The command that sets it for real. */
  fix: string;
}

export function placeholderSecrets(stackFile: string): PlaceholderSecret[] {
  const config = (parseYaml(readFileSync(stackFile, 'utf8')) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const found: PlaceholderSecret[] = [];
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`));
    if (!value || typeof value !== 'object') return;
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === 'string') {
      if (!CIPHERTEXT.test(obj.secure) || /placeholder/i.test(obj.secure)) found.push({ path, fix: fixFor(path) });
      return;
    }
    for (const [k, v] of Object.entries(obj)) walk(v, `${path}.${k}`);
  };
  for (const [key, value] of Object.entries(config)) walk(value, key);
  return found;
}

function fixFor(path: string): string {
  const set = `pulumi config set --secret --path '${path}'`;
  if (/privateKey$/.test(path)) return `${set} < your-app.private-key.pem`;
  if (/[wW]ebhookSecret/.test(path)) return `${set} "$(openssl rand -hex 32)"   (and the same secret on the GitHub App)`;
  return `${set} <value>`;
}
