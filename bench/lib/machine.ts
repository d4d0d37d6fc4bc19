import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { findValkeyBinary } from '../../sim/valkey.ts';
import { REPO_ROOT } from '../../sim/local.ts';
import type { Machine } from './types.ts';

/** Packages whose speed the benchmarks measure (their installed versions). */
const PACKAGES = ['@kubernetes/client-node', 'undici', 'iovalkey', 'prom-client', 'pino', 'zod', 'tsx'];

export function valkeyVersion(): string {
  try {
    const bin = findValkeyBinary();
    const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
    const m = /(Valkey|Redis) server v=(\S+)/i.exec(out);
    return m ? `${m[1]} ${m[2]}` : out.trim();
  } catch {
    return 'not installed';
  }
}

export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** The machine and versions a result was measured on. */
export function describeMachine(): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
    valkey: valkeyVersion(),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
  };
}
