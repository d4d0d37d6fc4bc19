// The orchestrator as it runs in the cluster (`npm run orchestrator`): configured only
// from the environment (docs/configuration.md). Exit codes: 0 clean stop, 1 runtime
// failure, 2 bad configuration.
import { loadEnv } from './config/env.ts';
import { createLogger } from './log.ts';
import { startOrchestrator } from './orchestrator.ts';
import { ConfigError } from './util/errors.ts';

const log = createLogger({ name: 'orchestrator' });

async function main(): Promise<void> {
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

main().catch((err) => {
  log.fatal({ err }, 'orchestrator failed');
  process.exit(err instanceof ConfigError ? 2 : 1);
});
