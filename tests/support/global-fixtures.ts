// One Valkey server for the whole run, started before any spec loads. Tests
// isolate themselves with unique key prefixes (see tests/support/valkey.ts).
import { startValkey, type ValkeyProcess } from '../../sim/valkey.ts';

let valkey: ValkeyProcess | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  valkey = await startValkey();
  process.env.RUNS_FLEET_TEST_VALKEY_URL = valkey.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await valkey?.dispose();
}
