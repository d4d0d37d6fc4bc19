import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A valkey-server (or redis-server) child process on loopback, for tests and local mode. */
export interface ValkeyProcess {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly binary: string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). Keeps the data directory. */
  stop(): Promise<void>;
  /** Kills the server without letting it save (SIGKILL): a crashed node. */
  kill(): Promise<void>;

  /** Kills the server without letting it save, then starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Stops the server and removes its data directory unless it was given by the caller. */
  dispose(): Promise<void>;
}

export interface ValkeyOptions {
  /** Data directory; a fresh temp directory by default (removed by dispose()). */
  dir?: string;
  /** Port; a free loopback port by default. */
  port?: number;
  /** Append-only file persistence (fsync every write), on by default so restarts keep accepted jobs. */
  appendonly?: boolean;
  /** fsync policy of the append-only file: `always` (default) or `everysec`, as the cluster's Valkey runs. */
  appendfsync?: 'always' | 'everysec';
  /** Own process group, so a terminal's Ctrl-C reaches only the parent, which stops the server in order. */
  detached?: boolean;
}

const CANDIDATES = ['valkey-server', 'redis-server'];

export class ValkeyNotInstalledError extends Error {
  override name = 'ValkeyNotInstalledError';
  constructor() {
    super(
      'neither valkey-server nor redis-server is on PATH. Install one: ' +
        '`apt-get install -t bookworm-backports valkey-server` (Debian bookworm-backports) ' +
        'or `apt-get install redis-server` (Debian bookworm).',
    );
  }
}

export function findValkeyBinary(): string {
  for (const name of CANDIDATES) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  throw new ValkeyNotInstalledError();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`valkey exited early with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.end(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`valkey did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export async function startValkey(options: ValkeyOptions = {}): Promise<ValkeyProcess> {
  const binary = findValkeyBinary();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'runs-fleet-valkey-'));
  const port = options.port ?? (await freePort());
  const appendonly = options.appendonly ?? true;
  let child: ChildProcess | undefined;

  const launch = async () => {
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
      '--save', '', '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', options.appendfsync ?? 'always',
      '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning',
    ];
    child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: options.detached ?? false });
    child.stderr?.resume();
    await waitForPort(port, child);
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.kill('SIGKILL'), 3_000);
      c.once('exit', () => { clearTimeout(timer); resolve(); });
      c.kill(signal);
    });
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    binary,
    stop: () => stop(),
    kill: () => stop('SIGKILL'),
    async restart() {
      await stop('SIGKILL');
      await launch();
    },
    async dispose() {
      await stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
