/** IPv4 CIDR arithmetic for the VPC layout and the config checks. */

export interface Cidr {
  /** The network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const addr = octets.reduce((acc, o) => acc * 256 + o, 0);
  // A CIDR with host bits set (10.0.0.1/16) is almost always a typo.
  if (addr % blockSize(prefix) !== 0) return undefined;
  return { base: addr, prefix };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(c.base / 2 ** shift) % 256);
  return `${o.join('.')}/${c.prefix}`;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const xEnd = x.base + blockSize(x.prefix);
  const yEnd = y.base + blockSize(y.prefix);
  return x.base < yEnd && y.base < xEnd;
}

/** The `index`-th block of size /newPrefix inside `parent`. */
export function subBlock(parent: Cidr, newPrefix: number, index: number): Cidr {
  if (newPrefix < parent.prefix) throw new Error(`/${newPrefix} does not fit in ${formatCidr(parent)}`);
  const count = 2 ** (newPrefix - parent.prefix);
  if (index < 0 || index >= count) throw new Error(`block ${index} of /${newPrefix} is outside ${formatCidr(parent)}`);
  return { base: parent.base + index * blockSize(newPrefix), prefix: newPrefix };
}

/**
 * Subnet layout of a new VPC for up to four zones: private subnets (nodes and runner pods,
 * which take VPC addresses) get the first /(n+3) blocks; public subnets (NAT gateways and
 * the webhook load balancer) share the last /(n+3) block as /(n+6)s.
 */
export function subnetLayout(vpcCidr: string, zones: number): { private: string[]; public: string[] } {
  const vpc = parseCidr(vpcCidr);
  if (!vpc) throw new Error(`${vpcCidr} is not an IPv4 CIDR`);
  if (zones < 1 || zones > 4) throw new Error(`zones must be 1..4, got ${zones}`);
  const lastEighth = subBlock(vpc, vpc.prefix + 3, 7);
  return {
    private: Array.from({ length: zones }, (_, i) => formatCidr(subBlock(vpc, vpc.prefix + 3, i))),
    public: Array.from({ length: zones }, (_, i) => formatCidr(subBlock(lastEighth, vpc.prefix + 6, i))),
  };
}
