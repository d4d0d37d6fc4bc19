/**
 * How Node runs the orchestrator in its Deployment (infra/orchestrator.ts) — the one source
 * of truth, also read by bench/memory.bench.ts so that what is measured is what ships.
 *
 * Why: under a 300-job pickup the bundled orchestrator peaked at 181–200 MiB RSS with Node's
 * defaults and 143 MiB with a 2 MiB semi-space (issue 16's measurement; bench/memory.bench.ts
 * measures it again in each run, with the GC time it costs). V8's young generation defaults
 * to 16 MiB semi-spaces on 64-bit (×3 with the from/to/new-large spaces), mostly idle memory
 * for a process whose objects are short-lived and small; a smaller one means more, cheaper
 * scavenges. --optimize-for-size makes V8 prefer memory over speed in its heuristics (heap
 * growth, code caching). Measured side by side (bench/memory.bench.ts, 300-job pickup, shared
 * 2-core machine): defaults 212 MiB, semi-space 2 161 MiB, + optimize-for-size 144 MiB (GC
 * pauses ~1 s over the burst vs 0.12 s, pickup rate unchanged); a hard --max-old-space-size=64
 * reached 138 MiB but turns a larger burst into a heap OOM crash, so it is not used.
 * These are command-line flags, not NODE_OPTIONS: Node refuses --optimize-for-size there.
 */
export const ORCHESTRATOR_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--optimize-for-size'];

/**
 * glibc malloc opens up to 8 arenas per core for native threads (libuv's pool, V8's GC
 * helpers); each keeps freed memory of its own. Two are enough for one event loop and cap
 * that fragmentation. (The image is node:…-bookworm-slim, glibc; musl would ignore it.)
 */
export const ORCHESTRATOR_NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
