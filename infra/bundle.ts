import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSync, type BuildOptions } from 'esbuild';

/**
 * Kubernetes rejects a ConfigMap whose data and binaryData together exceed 1 MiB
 * (core.MaxSecretSize); keep headroom for the object's metadata.
 */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;
export const BUNDLE_BUDGET_BYTES = CONFIGMAP_LIMIT_BYTES - 32 * 1024;
export const BUNDLE_FILE = 'main.mjs';
export const BUNDLE_KEY = `${BUNDLE_FILE}.gz`;

export interface RuntimeBundle {
  /** The orchestrator as one ESM file, gzipped. */
  gzip: Buffer;
  /** sha256 of the uncompressed JavaScript: names the ConfigMap and rolls the Deployment. */
  sha256: string;
  jsBytes: number;
}

// ESM output needs a real `require` for the CommonJS dependencies that call it (node-fetch, …).
const REQUIRE_BANNER = "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);";

/** How the orchestrator is bundled; bench/memory.bench.ts bundles its entry the same way. */
export const NODE_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  banner: { js: REQUIRE_BANNER },
  minify: true,
  keepNames: true,
  legalComments: 'none',
  write: false,
  logLevel: 'silent',
} as const satisfies BuildOptions;

const cache = new Map<string, RuntimeBundle>();

/**
 * Bundles the orchestrator (`entry`, normally runtime/main.ts) with esbuild for Node 24
 * and gzips it, so `pulumi up` ships the runtime in a ConfigMap without a container
 * build. Throws when the result would not fit a ConfigMap. Memoised per entry within one
 * process (a program run, or a test run that evaluates the program several times).
 */
export function bundleRuntime(entry: string): RuntimeBundle {
  const path = resolve(entry);
  const hit = cache.get(path);
  if (hit) return hit;
  if (!existsSync(path)) throw new Error(`orchestrator entry ${path} does not exist: pass the path of runtime/main.ts`);

  const result = buildSync({ entryPoints: [path], ...NODE_BUNDLE_OPTIONS });
  const js = result.outputFiles[0]?.contents;
  if (!js) throw new Error(`esbuild produced no output for ${path}`);
  const gzip = gzipSync(js, { level: 9 });
  if (gzip.length > BUNDLE_BUDGET_BYTES)
    throw new Error(
      `the gzipped orchestrator bundle is ${gzip.length} bytes, over the ${BUNDLE_BUDGET_BYTES}-byte ConfigMap budget: ` +
        'trim dependencies of runtime/main.ts or ship the runtime as a container image instead',
    );
  const bundle = { gzip, sha256: createHash('sha256').update(js).digest('hex'), jsBytes: js.length };
  cache.set(path, bundle);
  return bundle;
}
