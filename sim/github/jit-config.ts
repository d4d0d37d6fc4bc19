import { randomBytes } from 'node:crypto';

/**
 * The double's `encoded_jit_config`: shaped like GitHub's (base64 of a JSON object
 * whose `.runner`, `.credentials` and `.credentials_rsaparams` values are the
 * base64 contents of the runner's config files), so anything that stores or passes
 * it around handles a realistic blob. decodeJitConfig lets the simulated cluster
 * find which runner a pod's config belongs to.
 */

export interface JitRunnerIdentity {
  runnerId: number;
  runnerName: string;
  runnerGroupId: number;
  workFolder: string;
  serverUrl: string;
}

const b64json = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64');

export function encodeJitConfig(identity: JitRunnerIdentity): string {
  const runner = {
    AgentId: identity.runnerId,
    AgentName: identity.runnerName,
    PoolId: identity.runnerGroupId,
    PoolName: identity.runnerGroupId === 1 ? 'Default' : `group-${identity.runnerGroupId}`,
    ServerUrl: identity.serverUrl,
    GitHubUrl: identity.serverUrl,
    WorkFolder: identity.workFolder,
    Ephemeral: true,
    UseV2Flow: true,
  };
  const credentials = {
    Scheme: 'OAuth',
    Data: { ClientId: randomBytes(16).toString('hex'), AuthorizationUrl: `${identity.serverUrl}/_apis/oauth2/token`, requireFipsCryptography: 'False' },
  };
  const rsa = { d: randomBytes(48).toString('base64'), modulus: randomBytes(48).toString('base64'), exponent: 'AQAB' };
  return b64json({ '.runner': b64json(runner), '.credentials': b64json(credentials), '.credentials_rsaparams': b64json(rsa) });
}

/** Reads back the runner identity from a config the double issued; throws on anything else. */
export function decodeJitConfig(encoded: string): JitRunnerIdentity {
  const outer = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, string>;
  const runner = JSON.parse(Buffer.from(outer['.runner'] ?? '', 'base64').toString('utf8')) as Record<string, unknown>;
  if (typeof runner.AgentId !== 'number' || typeof runner.AgentName !== 'string') throw new Error('not a JIT config issued by the GitHub double');
  return {
    runnerId: runner.AgentId,
    runnerName: runner.AgentName,
    runnerGroupId: Number(runner.PoolId),
    workFolder: String(runner.WorkFolder),
    serverUrl: String(runner.ServerUrl),
  };
}
