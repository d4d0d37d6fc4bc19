// The orchestrator as it runs in the cluster (`npm run orchestrator`): configured only
// from the environment (docs/configuration.md). Exit codes: 0 clean stop, 1 runtime
// failure, 2 bad configuration.
import { loadEnv } from './config/env.ts';
import { jobsMain } from './jobs/main.ts';
import { createLogger } from './log.ts';
import { startOrchestrator } from './orchestrator.ts';
import { parseCommandLine } from './util/cli.ts';
import { ConfigError } from './util/errors.ts';

const USAGE = `Usage: npm run orchestrator   (node --import tsx runtime/main.ts)

Runs the runs-fleet orchestrator, configured only from the environment:
RUNS_FLEET_WEBHOOK_SECRET, RUNS_FLEET_VALKEY_URL, RUNS_FLEET_GITHUB_APP_ID,
RUNS_FLEET_GITHUB_PRIVATE_KEY(_FILE), RUNS_FLEET_CONFIG_FILE are required; KUBECONFIG
(or in-cluster), RUNS_FLEET_PORT (8080) and the others are described in docs/configuration.md.
For a local try-out with everything embedded, use \`npm start\` instead.
\`jobs …\` (npm run jobs -- --help) inspects the queue and replays dead letters instead of serving.

Options:
  -h, --help   show this help

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad arguments or configuration.
`;

const log = createLogger({ name: 'orchestrator' });

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2), {}, USAGE);
  if ('exit' in parsed) process.exit(parsed.exit);
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ problems: err.problems }, 'invalid configuration');
      process.stderr.write(`runs-fleet: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const orchestrator = await startOrchestrator(env);
  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down');
    orchestrator.stop().then(() => process.exit(0), (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[2] === 'jobs') {
  jobsMain(process.argv.slice(3)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`jobs: ${err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    },
  );
} else {
  main().catch((err) => {
    log.fatal({ err }, 'orchestrator failed');
    process.exit(err instanceof ConfigError ? 2 : 1);
  });
}
