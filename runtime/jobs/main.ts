// `npm run jobs` (runtime/main.ts jobs …): inspect the queue and replay dead letters beside a
// running orchestrator, locally or in its pod (kubectl exec … node /app/main.mjs jobs …), from
// the same environment. Part of the orchestrator's entry so the cluster's one bundle carries it.
import { loadConfigDocument } from '../config/load-document.ts';
import { loadValkeyUrl } from '../config/env.ts';
import { connectValkey, waitReady } from '../queue/connection.ts';
import { EXIT_USAGE } from '../util/cli.ts';
import { ConfigError } from '../util/errors.ts';
import { runJobsCommand, USAGE } from './command.ts';

/** Runs `jobs …` and returns the exit code. */
export async function jobsMain(argv: string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help' || argv.length === 0) {
    (argv.length ? process.stdout : process.stderr).write(USAGE);
    return argv.length ? 0 : EXIT_USAGE;
  }
  let url: string;
  try {
    url = loadValkeyUrl();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`jobs: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (!['list', 'show', 'replay'].includes(argv[0]!)) return runJobsCommand(argv, { valkey: undefined as never, out: process.stdout, err: process.stderr });
  const configFile = process.env.RUNS_FLEET_CONFIG_FILE?.trim();
  const valkey = connectValkey(url, 'command');
  valkey.on('error', () => {});
  try {
    try {
      await waitReady(valkey, 10_000);
    } catch {
      // The host only: the URL may carry a password.
      process.stderr.write(`jobs: Valkey at ${new URL(url).host} is not reachable within 10 s: check RUNS_FLEET_VALKEY_URL (and that you run this where the orchestrator runs)\n`);
      return 1;
    }
    return await runJobsCommand(argv, { valkey, doc: configFile ? () => loadConfigDocument(configFile) : undefined, out: process.stdout, err: process.stderr });
  } finally {
    valkey.disconnect();
  }
}
