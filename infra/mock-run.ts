/**
 * Runs the whole Pulumi program (infra/program.ts) under `pulumi.runtime.setMocks` and
 * records every resource it registers: type, name, inputs and URN. The CrossGuard
 * policy tests and the offline plan (infra/plan.ts) feed these records to the policies
 * as the engine would. Needs no Pulumi CLI, no plugins and no cloud credentials.
 *
 * How it works, and why in-process:
 * - Stack config goes in through `pulumi.runtime.setAllConfig` (fully qualified keys,
 *   structured values JSON-encoded), exactly what the engine hands a program; the
 *   program then reads it with its own reader (infra/read-config.ts).
 * - `setMocks` replaces the mock monitor and `setAllConfig` replaces the whole config
 *   store, so one mocha process can evaluate the program many times, with different
 *   configs and stacks, one run after another (checked: a second run sees only its own
 *   config and records only its own resources). Runs must not overlap: await each.
 * - The program module is imported statically: it only defines `program()` and creates
 *   nothing at import time, so it does not matter that it loads before `setMocks`.
 *   (A dynamic `import()` here would be worse: mocha loads spec files through tsx's
 *   CommonJS hook, so a spec and a dynamically imported module would get two copies of
 *   shared modules, and `err instanceof ConfigError` would fail.)
 * - Remote components (`eks:index:Cluster`, `eks:index:ManagedNodeGroup`) appear as one
 *   record each, with no children; their outputs are the fakes below.
 * - URNs come from the mock monitor; parent *types* are in them
 *   (`runs-fleet:infra:Karpenter$kubernetes:karpenter.sh/v1:NodePool`).
 * - With `preview: true`, values that depend on mock outputs the fakes do not supply
 *   stay unknown, and outputs that depend on them never resolve: use preview only for
 *   resource inputs, which are recorded either way (unknowns as `__pulumiUnknown`).
 */
import { readFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml } from 'yaml';
import { program } from './program.ts';
import { readStackConfig } from './read-config.ts';

export const PROJECT = 'runs-fleet';
export const MOCK_ACCOUNT = '123456789012';
export const MOCK_OIDC_ISSUER = 'oidc.eks.mock-region-1.amazonaws.com/id/MOCKISSUER';

export interface RecordedResource {
  /** Type token, e.g. `kubernetes:karpenter.sh/v1:NodePool`. */
  type: string;
  /** The Pulumi (logical) name, e.g. `karpenter-nodepool-4cpu-linux-arm64`. */
  name: string;
  urn: string;
  /** The inputs as the engine (and CrossGuard) sees them; secrets unwrapped. */
  inputs: Record<string, any>;
  /** False for component resources. */
  custom: boolean;
  /** Provider reference (`urn::id`) when one was set explicitly or inherited. */
  provider?: string;
}

export interface StackFile {
  /** Fully qualified keys (`runs-fleet:pools`, `aws:region`) as in the file's `config:` section. */
  config: Record<string, unknown>;
  /** Keys that held a `secure:` value anywhere inside. */
  secretKeys: string[];
}

export interface RunOptions {
  /** Stack name (the default cluster name is runs-fleet-<stack>). */
  stack?: string;
  preview?: boolean;
  /** Keys to mark secret, as the engine does for keys holding `secure:` values. */
  secretKeys?: string[];
  /** Orchestrator entry to bundle; defaults to runtime/main.ts. */
  runtimeEntry?: string;
}

export interface ProgramRun {
  resources: RecordedResource[];
  /** The program's outputs, resolved (secrets unwrapped). */
  outputs: Record<string, any>;
}

/**
 * Reads a `Pulumi.<stack>.yaml` and returns its `config:` section, with every
 * `{secure: …}` replaced by fake plaintext from `secure(path)` (default: a PEM-shaped
 * fake for keys named privateKey, otherwise `fake-secret-for-<path>`).
 */
export function loadStackFile(file: string, secure: (path: string) => string = fakeSecret): StackFile {
  const doc = parseYaml(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> };
  const secretKeys = new Set<string>();
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    config[key] = replaceSecure(value, key, () => secretKeys.add(key), secure);
  }
  return { config, secretKeys: [...secretKeys] };
}

function replaceSecure(value: unknown, path: string, mark: () => void, secure: (path: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v, i) => replaceSecure(v, `${path}[${i}]`, mark, secure));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 1 && typeof obj.secure === 'string') {
      mark();
      return secure(path);
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, replaceSecure(v, `${path}.${k}`, mark, secure)]));
  }
  return value;
}

export function fakeSecret(path: string): string {
  if (path.endsWith('privateKey')) return `-----BEGIN RSA PRIVATE KEY-----\nZmFrZS1rZXktZm9yLXRlc3Rz\n-----END RSA PRIVATE KEY-----\n`;
  return `fake-secret-for-${path}`;
}

/** Evaluates infra/program.ts for `stackConfig` (fully qualified keys) under mocks. */
export async function runProgram(stackConfig: Record<string, unknown>, opts: RunOptions = {}): Promise<ProgramRun> {
  const stack = opts.stack ?? 'dev';
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(stackConfig).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
    opts.secretKeys ?? [],
  );
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = plain(args.inputs) as Record<string, any>;
        resources.push({ type: args.type, name: args.name, urn: '', inputs, custom: args.custom ?? true, ...(args.provider ? { provider: args.provider } : {}) });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: fakeState(args.type, args.name, inputs) };
      },
      call: (args) => fakeInvoke(args.token, args.inputs as Record<string, any>),
    },
    PROJECT,
    stack,
    opts.preview ?? false,
  );

  const outputs = program(readStackConfig(), opts.runtimeEntry ? { runtimeEntry: opts.runtimeEntry } : {});
  const resolved = opts.preview ? {} : await new Promise<Record<string, any>>((r) => pulumi.output(outputs).apply((v) => r(v as Record<string, any>)));
  // Internal to the SDK (exported at runtime, not in its typings): drains pending registrations.
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  await new Promise((r) => setImmediate(r));
  attachUrns(resources);
  return { resources, outputs: resolved };
}

const SECRET_SIG = { key: '4dabf18193072939515e22adb298388d', value: '1b47061264138c4ac30d75fd1eb44270' };

/**
 * Inputs as plain data: secret wrappers unwrapped (policies see plaintext) and resource
 * references (e.g. the cluster passed to a node group) reduced to `{ resourceType, resourceName }`.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (pulumi.Resource.isInstance(value)) {
    const r = value as unknown as { __pulumiType?: string; __name?: string };
    return { resourceType: r.__pulumiType, resourceName: r.__name };
  }
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG.key] === SECRET_SIG.value) return plain(obj.value);
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function attachUrns(resources: RecordedResource[]): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
  const byKey = new Map<string, string>();
  for (const urn of monitor.getRegisteredResources().keys()) {
    const parts = urn.split('::');
    const qualifiedType = parts[parts.length - 2] ?? '';
    const type = qualifiedType.split('$').pop() ?? qualifiedType;
    byKey.set(`${type}::${parts[parts.length - 1]}`, urn);
  }
  for (const r of resources) r.urn = byKey.get(`${r.type}::${r.name}`) ?? `urn:pulumi:mock::${PROJECT}::${r.type}::${r.name}`;
}

/** Outputs a real deployment would report, faked just enough for the program's wiring. */
function fakeState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const state: Record<string, any> = { ...inputs };
  if (type === 'eks:index:Cluster') {
    const clusterName = inputs.name ?? `${name}-eks`;
    return {
      ...state,
      kubeconfigJson: JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: clusterName }] }),
      eksCluster: {
        name: clusterName,
        arn: `arn:aws:eks:mock-region-1:${MOCK_ACCOUNT}:cluster/${clusterName}`,
        endpoint: `https://${clusterName}.mock.eks.amazonaws.com`,
        roleArn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${clusterName}-eksRole-mock`,
      },
      oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT}:oidc-provider/${MOCK_OIDC_ISSUER}`,
      oidcProviderUrl: `https://${MOCK_OIDC_ISSUER}`,
      oidcIssuer: MOCK_OIDC_ISSUER,
      clusterSecurityGroupId: 'sg-0mockcluster',
      nodeSecurityGroupId: 'sg-0mockcluster',
    };
  }
  if (type === 'random:index/randomPassword:RandomPassword') return { ...state, result: `mockpassword${name.replace(/[^a-z0-9]/gi, '')}` };
  if (type.startsWith('kubernetes:') && type !== 'kubernetes:helm.sh/v3:Release') {
    state.metadata = { ...(inputs.metadata ?? {}), name: inputs.metadata?.name ?? `${name}-mock` };
    if (inputs.spec?.type === 'LoadBalancer') state.status = { loadBalancer: { ingress: [{ hostname: `${name}.elb.mock.amazonaws.com` }] } };
    return state;
  }
  if (type.startsWith('aws:')) {
    state.name ??= `${name}-mock`;
    state.arn ??= `arn:aws:mock::${MOCK_ACCOUNT}:${name}`;
    if (type === 'aws:sqs/queue:Queue') state.url = `https://sqs.mock-region-1.amazonaws.com/${MOCK_ACCOUNT}/${state.name}`;
  }
  return state;
}

function fakeInvoke(token: string, inputs: Record<string, any>): Record<string, any> {
  if (token === 'aws:index/getAvailabilityZones:getAvailabilityZones')
    return { names: ['mock-1a', 'mock-1b', 'mock-1c', 'mock-1d'], zoneIds: ['mock1-az1', 'mock1-az2', 'mock1-az3', 'mock1-az4'] };
  return inputs;
}

/** All records of one type token. */
export function ofType(run: ProgramRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The one record of `type` named `name`; throws (listing what exists) when absent. */
export function one(run: ProgramRun, type: string, name: string): RecordedResource {
  const found = run.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; have: ${ofType(run, type).map((r) => r.name).join(', ') || 'none'}`);
  return found;
}
