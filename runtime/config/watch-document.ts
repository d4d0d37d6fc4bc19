import { createHash } from 'node:crypto';
import { statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { Counter, Gauge, type Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log.ts';
import { METRIC_PREFIX } from '../metrics/registry.ts';
import { isAbortError, type Clock } from '../util/clock.ts';
import { ConfigError } from '../util/errors.ts';
import type { ConfigDocument } from './document.ts';
import { parseConfigText, readConfigFile } from './load-document.ts';

/**
 * Reloads the config document when its file changes, without a restart.
 *
 * A Kubernetes ConfigMap volume exposes each key as a symlink into `..data`, itself a
 * symlink that the kubelet swaps atomically to a new timestamped directory. fs.watch on
 * the file watches the old inode and misses the swap, so this polls instead: a stat
 * (which follows the symlinks) decides whether to read, and a content hash decides
 * whether anything changed. A bad edit keeps the last good document running.
 */

export type ConfigListener = (doc: ConfigDocument, previous: ConfigDocument) => void | Promise<void>;

export interface ConfigReloadMetrics {
  reloads: Counter<'result'>;
  lastReloadOk: Gauge;
}

/** `runs_fleet_config_reloads_total{result=applied|invalid|unreadable}` and `runs_fleet_config_last_reload_ok`. */
export function createConfigReloadMetrics(registry: Registry): ConfigReloadMetrics {
  return {
    reloads: new Counter({
      name: `${METRIC_PREFIX}config_reloads_total`,
      help: 'Config document changes seen, by result (invalid and unreadable keep the last good document)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    lastReloadOk: new Gauge({
      name: `${METRIC_PREFIX}config_last_reload_ok`,
      help: '1 when the config file on disk is the document in use, 0 after a rejected edit',
      registers: [registry],
    }),
  };
}

export interface ConfigWatcherOptions {
  path: string;
  clock: Clock;
  /** Time between polls; the kubelet itself only refreshes ConfigMap volumes every minute or so. */
  intervalMs?: number;
  /** Re-hash the file every this many polls even when stat looks unchanged (coarse-mtime filesystems). */
  rehashEvery?: number;
  log?: Logger;
  metrics?: ConfigReloadMetrics;
}

export interface ConfigWatcher {
  /** The document in use: the last one that validated. */
  current(): ConfigDocument;
  /** Calls `listener` after each applied change; returns the unsubscribe function. */
  subscribe(listener: ConfigListener): () => void;
  /** One check now; resolves true when a new document was applied (after its listeners ran). */
  poll(): Promise<boolean>;
  /** Stops polling; safe to call more than once. */
  stop(): Promise<void>;
}

/** Loads the document (throws ConfigError if the first one is bad: fail at startup, loudly) and starts polling. */
export function watchConfigDocument(options: ConfigWatcherOptions): ConfigWatcher {
  const initial = loadInitial(options.path);
  const state = new WatchState(options, initial);
  const abort = new AbortController();
  const loop = runLoop(state, options, abort.signal);
  let stopping: Promise<void> | undefined;
  return {
    current: () => state.doc,
    subscribe: (listener) => state.subscribe(listener),
    poll: () => state.poll(),
    stop: () => (stopping ??= (abort.abort(), loop)),
  };
}

interface Snapshot {
  doc: ConfigDocument;
  fingerprint: string;
  hash: string;
}

function loadInitial(path: string): Snapshot {
  // Stat before reading, as every poll does: a swap in between shows up as a new fingerprint.
  let fingerprint = '';
  try {
    fingerprint = fingerprintOf(statSync(path));
  } catch {
    // readConfigFile below reports the missing file with the fix.
  }
  const text = readConfigFile(path);
  return { doc: parseConfigText(text, path), fingerprint, hash: sha256(text) };
}

function fingerprintOf(s: Stats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function runLoop(state: WatchState, options: ConfigWatcherOptions, signal: AbortSignal): Promise<void> {
  const interval = options.intervalMs ?? 5_000;
  while (!signal.aborted) {
    try {
      await options.clock.sleep(interval, signal);
    } catch (err) {
      if (isAbortError(err) || signal.aborted) return;
      throw err;
    }
    try {
      await state.poll();
    } catch (err) {
      // A bug must not end the loop silently: log it and poll again next time.
      options.log?.error({ err, file: options.path }, 'config poll failed');
    }
  }
}

class WatchState {
  doc: ConfigDocument;
  private readonly listeners = new Set<ConfigListener>();
  private readonly log: Logger;
  private fingerprint = '';
  private hash = '';
  private lastError = '';
  private polls = 0;
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly options: ConfigWatcherOptions, initial: Snapshot) {
    ({ doc: this.doc, fingerprint: this.fingerprint, hash: this.hash } = initial);
    this.log = (options.log ?? silentLogger()).child({ component: 'config-watch', file: options.path });
    options.metrics?.lastReloadOk.set(1);
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Polls never overlap: a manual poll during a timed one waits for it. */
  poll(): Promise<boolean> {
    const next = (this.inFlight ?? Promise.resolve(false)).then(() => this.check());
    this.inFlight = next.finally(() => {
      if (this.inFlight === next) this.inFlight = undefined;
    });
    return next;
  }

  private async check(): Promise<boolean> {
    const rehash = ++this.polls % (this.options.rehashEvery ?? 12) === 0;
    const fingerprint = await this.stat();
    if (fingerprint === undefined || (fingerprint === this.fingerprint && !rehash)) return false;
    const read = await this.read();
    if (!read) return false;
    this.fingerprint = read.fingerprint;
    if (read.hash === this.hash) return false;
    this.hash = read.hash;
    return this.apply(read.text);
  }

  private async apply(text: string): Promise<boolean> {
    let doc: ConfigDocument;
    try {
      doc = parseConfigText(text, this.options.path);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.reject('invalid', err.problems);
      return false;
    }
    const previous = this.doc;
    this.doc = doc;
    this.lastError = '';
    this.options.metrics?.reloads.inc({ result: 'applied' });
    this.options.metrics?.lastReloadOk.set(1);
    this.log.info({ pools: doc.pools.length, classes: doc.classes.length }, 'config document reloaded');
    for (const listener of [...this.listeners]) {
      try {
        await listener(doc, previous);
      } catch (err) {
        this.log.error({ err }, 'config listener failed');
      }
    }
    return true;
  }

  private reject(result: 'invalid' | 'unreadable', problems: string[]): void {
    const key = `${result}:${problems.join('\n')}`;
    if (key === this.lastError) return; // the same bad file is reported once, not every poll
    this.lastError = key;
    this.options.metrics?.reloads.inc({ result });
    this.options.metrics?.lastReloadOk.set(0);
    this.log.warn({ problems }, 'config document rejected; keeping the last good one');
  }

  private async stat(): Promise<string | undefined> {
    try {
      return fingerprintOf(await stat(this.options.path));
    } catch (err) {
      this.unreadable(err);
      return undefined;
    }
  }

  private async read(): Promise<{ fingerprint: string; hash: string; text: string } | undefined> {
    try {
      // Stat before reading: if the file is swapped in between, the next poll sees a new fingerprint.
      const fingerprint = fingerprintOf(await stat(this.options.path));
      const bytes = await readFile(this.options.path);
      return { fingerprint, hash: sha256(bytes.toString('utf8')), text: bytes.toString('utf8') };
    } catch (err) {
      this.unreadable(err);
      return undefined;
    }
  }

  private unreadable(err: unknown): void {
    this.fingerprint = '';
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    this.reject('unreadable', [`${this.options.path}: cannot read the config document (${code})`]);
  }
}
