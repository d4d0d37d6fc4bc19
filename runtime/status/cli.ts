// `npm run status`: what the system is doing — queue depth, in-flight jobs, dead letters,
// warm pools (desired / ready / hits), the GitHub budget and the leader — read from an
// orchestrator's GET /status. Local mode is found by itself; a cluster through
// `kubectl port-forward`. Exit codes: 0 shown, 1 no answer, 2 bad arguments.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseCommandLine, usageFailure } from '../util/cli.ts';
import type { Status } from './collect.ts';
import { renderStatus } from './render.ts';

const USAGE = `Usage: npm run status [-- options]

Shows what runs-fleet is doing: jobs waiting in the queue, in flight (being provisioned) and
dead-lettered; each warm pool's desired and ready placeholders and its hits; the GitHub API
budget left; and which replica leads. It asks an orchestrator's GET /status:
  - local mode (npm start / bash bootstrap.sh start) is found by itself;
  - a cluster: kubectl -n runs-fleet-system port-forward svc/runs-fleet-orchestrator-metrics 19090:9090
    then npm run status -- --url http://127.0.0.1:19090

Options:
  --url URL       the orchestrator (default: $RUNS_FLEET_STATUS_URL, else the running local mode)
  --json          print the status as JSON
  --watch S       print it again every S seconds until Ctrl-C
  -h, --help      show this help

Exit codes: 0 shown, 1 no orchestrator answered, 2 bad arguments.
`;

/** Where local mode (sim/local.ts) says where its orchestrator listens, while it runs. */
export function localModeStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNS_FLEET_LOCAL_STATE ?? join(homedir(), '.cache', 'runs-fleet', 'local-mode.json');
}

export interface LocalModeState {
  pid: number;
  url: string;
  /** Its Valkey and key prefix (`npm run what-if` reads the job records there); absent in files of older local modes. */
  valkeyUrl?: string;
  prefix?: string;
}

/** The running local mode's orchestrator URL, or undefined (no file, or its process is gone). */
export function findLocalMode(file = localModeStateFile()): string | undefined {
  return findLocalModeState(file)?.url;
}

/** The running local mode's state, or undefined (no file, or its process is gone). */
export function findLocalModeState(file = localModeStateFile()): LocalModeState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as LocalModeState;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}

export async function fetchStatus(url: string, signal?: AbortSignal): Promise<Status> {
  const res = await fetch(new URL('/status', url), { signal: signal ?? AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}/status answered ${res.status}: is this a runs-fleet orchestrator (its private port, 9090 in a cluster)?`);
  return (await res.json()) as Status;
}

export async function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  const e = { write: err };
  const parsed = parseCommandLine(argv, { url: { type: 'string' }, json: { type: 'boolean' }, watch: { type: 'string' } }, USAGE, { write: out }, e);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const watch = values.watch === undefined ? undefined : Number(values.watch);
  if (watch !== undefined && !(watch >= 1 && watch <= 3600)) return usageFailure([`--watch ${values.watch}: must be seconds in 1..3600`], USAGE, e).exit;
  const url = values.url ?? process.env.RUNS_FLEET_STATUS_URL ?? findLocalMode();
  if (!url) {
    err('runs-fleet status: no local mode is running and no --url was given: start local mode (bash bootstrap.sh start), or port-forward an orchestrator and pass --url (npm run status -- --help)\n');
    return 1;
  }
  if (!/^https?:\/\//.test(url)) return usageFailure([`--url ${url}: must be an http(s) URL such as http://127.0.0.1:18080`], USAGE, e).exit;
  for (;;) {
    try {
      const status = await fetchStatus(url);
      out(values.json ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    } catch (x) {
      err(`runs-fleet status: ${url} did not answer: ${(x as Error).message}\n`);
      if (watch === undefined) return 1;
    }
    if (watch === undefined) return 0;
    await new Promise((r) => setTimeout(r, watch * 1000));
    out('\n');
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
