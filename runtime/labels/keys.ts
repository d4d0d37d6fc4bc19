import type { Arch } from '../config/document.ts';
import { LabelError, type LabelErrorReason } from './errors.ts';
import type { RunnerRequest } from './types.ts';

/** The request fields a `k=v` segment can set. */
export type SpecFields = Pick<RunnerRequest, 'runner' | 'cpu' | 'ramGiB' | 'arch' | 'families' | 'gen' | 'pool' | 'spot' | 'diskGiB'>;

export interface KeyContext {
  label: string;
  warn(message: string): void;
}

type KeyParser = (value: string, ctx: KeyContext) => Partial<SpecFields>;

// Bounds beyond any EC2 instance: they keep numbers safe integers and turn a typo
// such as cpu=40000 into a clear error instead of "no class matches".
const CPU_LIMIT = 1024;
const RAM_LIMIT_GIB = 65_536;
const DISK_MIN_GIB = 1;
const DISK_MAX_GIB = 16_384;
const GEN_MIN = 1;
const GEN_MAX = 10;

const WHOLE = /^\d+$/;
const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
/** Same shape as an instance family in the config document (`c7g`, `m7i-flex`). */
const FAMILY = /^[a-z][a-z0-9-]*$/;
/** The original's validPoolName; config pool names (DNS labels) are a subset. */
const POOL = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/;

const ARCH_SYNONYMS: ReadonlyMap<string, Arch> = new Map([
  ['arm64', 'arm64'],
  ['aarch64', 'arm64'],
  ['amd64', 'amd64'],
  ['x64', 'amd64'],
  ['x86_64', 'amd64'],
]);

function fail(reason: LabelErrorReason, ctx: KeyContext, message: string): never {
  throw new LabelError(reason, ctx.label, message);
}

function whole(text: string, lo: number, hi: number): number | undefined {
  if (!WHOLE.test(text)) return undefined;
  const n = Number(text);
  return n >= lo && n <= hi ? n : undefined;
}

function decimal(text: string, hi: number): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return n > 0 && n <= hi ? n : undefined;
}

/** `N` or `MIN+MAX`; exactly one `+`. */
function splitRange(value: string): [string, string | undefined] | undefined {
  const parts = value.split('+');
  if (parts.length > 2) return undefined;
  return [parts[0]!, parts[1]];
}

const cpu: KeyParser = (value, ctx) => {
  const usage = `use cpu=N or cpu=MIN+MAX with whole vCPU counts from 1 to ${CPU_LIMIT}, e.g. cpu=4 (meaning 4 to 8) or cpu=4+8`;
  const parts = splitRange(value);
  const min = parts && whole(parts[0], 1, CPU_LIMIT);
  if (min === undefined) fail('invalid_cpu', ctx, `cpu=${value} is not a vCPU count; ${usage}`);
  if (parts![1] === undefined) return { cpu: { min, max: 2 * min } };
  const max = whole(parts![1], 1, CPU_LIMIT);
  if (max === undefined) fail('invalid_cpu', ctx, `cpu=${value} has an invalid maximum; ${usage}`);
  if (max < min) fail('invalid_cpu', ctx, `cpu=${value}: the maximum ${max} is below the minimum ${min}; write cpu=${max}+${min}`);
  return { cpu: { min, max } };
};

const ram: KeyParser = (value, ctx) => {
  const usage = `use ram=N or ram=MIN+MAX in GiB, numbers above 0 up to ${RAM_LIMIT_GIB} (decimals allowed), e.g. ram=8 or ram=7.5+16`;
  const parts = splitRange(value);
  const min = parts && decimal(parts[0], RAM_LIMIT_GIB);
  if (min === undefined) fail('invalid_ram', ctx, `ram=${value} is not a memory size; ${usage}`);
  // `ram=N` has no upper bound: unlike cpu there is no 2× auto-range (as in the original).
  if (parts![1] === undefined) return { ramGiB: { min } };
  const max = decimal(parts![1], RAM_LIMIT_GIB);
  if (max === undefined) fail('invalid_ram', ctx, `ram=${value} has an invalid maximum; ${usage}`);
  if (max < min) fail('invalid_ram', ctx, `ram=${value}: the maximum ${max} is below the minimum ${min}; write ram=${max}+${min}`);
  return { ramGiB: { min, max } };
};

// The original silently ignored an unknown arch, which leaves the job free to land on
// any architecture — a job that asked for `arch=arm` would run on amd64 and fail late.
// Bad values are errors (brief §3), so an unknown arch is refused here. Matching is
// case-insensitive because `ARM64` is unambiguous.
const arch: KeyParser = (value, ctx) => {
  const found = ARCH_SYNONYMS.get(value.toLowerCase());
  if (!found) fail('invalid_arch', ctx, `arch=${value} is not a known architecture; use arch=arm64 or arch=amd64 (aarch64, x64 and x86_64 also work)`);
  return { arch: found };
};

// Families match case-insensitively (as in the original); Karpenter's values are lowercase.
const family: KeyParser = (value, ctx) => {
  const families = value.toLowerCase().split('+');
  const bad = families.find((f) => !FAMILY.test(f));
  if (bad !== undefined)
    fail('invalid_family', ctx, `family=${value}: "${bad}" is not an EC2 instance family; use family=c7g or family=c7g+m7g`);
  return { families: [...new Set(families)] };
};

const gen: KeyParser = (value, ctx) => {
  const n = whole(value, GEN_MIN, GEN_MAX);
  if (n === undefined) fail('invalid_gen', ctx, `gen=${value} is not an instance generation; use a whole number from ${GEN_MIN} to ${GEN_MAX}, e.g. gen=7`);
  return { gen: n };
};

const pool: KeyParser = (value, ctx) => {
  if (!POOL.test(value))
    fail('invalid_pool', ctx, `pool=${value} is not a pool name; use letters, digits, "-" and "_" (at most 63, starting alphanumeric), e.g. pool=default`);
  return { pool: value };
};

const runner: KeyParser = (value, ctx) => {
  if (!value) fail('invalid_runner', ctx, 'runner= names no class; use runner=<class>, e.g. runner=4cpu-linux-arm64');
  return { runner: value };
};

// Only the literal lowercase `false` turns spot off, as in the original: anything else
// keeps spot on, with a warning when it looks like an attempt to say something else.
const spot: KeyParser = (value, ctx) => {
  if (value !== 'false' && value !== 'true') ctx.warn(`spot=${value} keeps spot capacity allowed; only spot=false requires on-demand`);
  return { spot: value !== 'false' };
};

const disk: KeyParser = (value, ctx) => {
  const n = whole(value, DISK_MIN_GIB, DISK_MAX_GIB);
  if (n === undefined) fail('invalid_disk', ctx, `disk=${value} is not a disk size; use a whole number of GiB from ${DISK_MIN_GIB} to ${DISK_MAX_GIB}, e.g. disk=100`);
  return { diskGiB: n };
};

/** A Map, not an object: keys come from workflow text (`__proto__=…` must be just unknown). */
export const KEY_PARSERS: ReadonlyMap<string, KeyParser> = new Map([
  ['runner', runner],
  ['cpu', cpu],
  ['ram', ram],
  ['arch', arch],
  ['family', family],
  ['gen', gen],
  ['pool', pool],
  ['spot', spot],
  ['disk', disk],
]);
