import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { PolicyPackConfig } from '@pulumi/policy';
import { evaluatePolicies, resolvePackConfig, type ResourceUnderTest, type Violation } from '../../policies/in-process.ts';
import { PACK, policies } from '../../policies/policies.ts';
import { root, shippedPolicyConfig, stackResources, withDocument, withEdit } from './support.ts';

/**
 * policies/index.ts served for real: the pack runs in its own process (`new PolicyPack`
 * starts @pulumi/policy's analyzer gRPC server and prints its port, as under the CLI),
 * and this test speaks the engine's side of the Analyzer protocol to it: GetAnalyzerInfo,
 * Configure (with policies/config.dev.json), Analyze per resource, AnalyzeStack. What the
 * served pack reports must be what the in-process evaluator (tests, offline plan) reports.
 * The CLI loads the pack through ts-node from policies/node_modules; here tsx loads it.
 */

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const pb = require('@pulumi/pulumi/proto/analyzer_pb');
const rpc = require('@pulumi/pulumi/proto/analyzer_grpc_pb');
const structpb = require('google-protobuf/google/protobuf/struct_pb');
const emptypb = require('google-protobuf/google/protobuf/empty_pb');

const LEVEL_NAMES = ['advisory', 'mandatory', 'disabled', 'remediate'] as const;
const LEVEL_CODES: Record<string, number> = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 };

interface Diagnostic {
  policy: string;
  level: string;
  message: string;
  urn: string;
}

describe('the policy pack served over the Analyzer protocol (policies/index.ts)', function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let client: any;
  let dev: ResourceUnderTest[];

  const call = <T>(method: string, req: unknown): Promise<T> =>
    new Promise((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));

  const diagnostics = (resp: any): Diagnostic[] => resp.getDiagnosticsList().map((d: any) => ({
    policy: d.getPolicyname(), level: LEVEL_NAMES[d.getEnforcementlevel() as 0 | 1 | 2 | 3], message: d.getMessage(), urn: d.getUrn(),
  }));

  const analyze = async (r: ResourceUnderTest): Promise<Diagnostic[]> => {
    const req = new pb.AnalyzeRequest();
    req.setType(r.type);
    req.setName(r.name);
    req.setUrn(r.urn);
    req.setProperties(structpb.Struct.fromJavaScript(r.props));
    req.setOptions(new pb.AnalyzerResourceOptions());
    return diagnostics(await call('analyze', req)).map((d) => ({ ...d, urn: d.urn || r.urn }));
  };

  const analyzeStack = async (rs: readonly ResourceUnderTest[]): Promise<Diagnostic[]> => {
    const req = new pb.AnalyzeStackRequest();
    req.setResourcesList(rs.map((r) => {
      const a = new pb.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(r.urn);
      a.setProperties(structpb.Struct.fromJavaScript(r.props));
      a.setOptions(new pb.AnalyzerResourceOptions());
      return a;
    }));
    return diagnostics(await call('analyzeStack', req));
  };

  /** Everything the served pack says about a stack: each resource, then the stack. */
  const analyzeAll = async (rs: readonly ResourceUnderTest[]) => [...(await Promise.all(rs.map(analyze))).flat(), ...(await analyzeStack(rs))];

  /** What the engine sends after reconciling a --policy-pack-config file with the schemas. */
  const configure = async (config: PolicyPackConfig) => {
    const req = new pb.ConfigureAnalyzerRequest();
    const map = req.getPolicyconfigMap();
    for (const [name, c] of resolvePackConfig(policies, config, PACK.enforcementLevel)) {
      const pc = new pb.PolicyConfig();
      pc.setEnforcementlevel(LEVEL_CODES[c.level]);
      pc.setProperties(structpb.Struct.fromJavaScript(c.properties));
      map.set(name, pc);
    }
    await call('configure', req);
  };

  const comparable = (ds: Array<Diagnostic | Violation>) =>
    ds.map((d) => `${d.policy} ${d.level} ${d.urn ?? ''} ${d.message.split('\n').pop()}`).sort();

  before(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'index.ts'], { cwd: root('policies'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr += String(d); });
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(String(d).trim()));
      child.once('exit', (code) => reject(new Error(`the pack exited (${code}) before serving: ${stderr}`)));
    });
    assert.match(port, /^\d+$/);
    client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    dev = await stackResources('dev');
  });

  after(() => {
    client?.close();
    child?.kill();
  });

  it('describes itself: name, the version from policies/package.json, every policy with its schema', async () => {
    const info = await call<any>('getAnalyzerInfo', new emptypb.Empty());
    assert.equal(info.getName(), PACK.name);
    assert.equal(info.getVersion(), require(root('policies/package.json')).version);
    const served = info.getPoliciesList().map((p: any) => p.getName());
    assert.deepEqual(served, policies.map((p) => p.name));
    const withSchema = info.getPoliciesList().filter((p: any) => p.getConfigschema()).map((p: any) => p.getName());
    assert.deepEqual(withSchema, policies.filter((p) => p.configSchema).map((p) => p.name));
  });

  it('finds nothing in the dev stack, configured with policies/config.dev.json', async () => {
    await configure(shippedPolicyConfig('dev'));
    assert.deepEqual(await analyzeAll(dev), []);
  });

  it('reports crafted violations exactly as the in-process evaluator does', async () => {
    const config = shippedPolicyConfig('dev');
    await configure(config);
    let crafted = withDocument(dev, (doc) => { doc.pools[0].max = 49; });
    crafted = withEdit(crafted, 'karpenter-nodepool-2cpu-linux-arm64', (np) => { np.spec.template.spec.taints = []; });
    crafted = withEdit(crafted, 'orchestrator-deployment', (d) => { d.spec.replicas = 1; });
    const served = await analyzeAll(crafted);
    const local = await evaluatePolicies(policies, crafted, { config, packEnforcementLevel: PACK.enforcementLevel });
    assert.deepEqual(comparable(served), comparable(local.violations));
    assert.deepEqual([...new Set(served.map((d) => `${d.policy} ${d.level}`))].sort(), [
      'nodepool-runner-taint mandatory', 'orchestrator-high-availability advisory', 'warm-pool-cpu-within-nodepool mandatory',
      'warm-pool-max-cap mandatory', // 49 is over config.dev.json's per-pool cap of 20
    ]);
    // The engine shows the policy's description, then the message.
    const budget = served.find((d) => d.policy === 'warm-pool-cpu-within-nodepool')!;
    assert.match(budget.message, /^The placeholders of a class’s warm pools .*\nNodePool "4cpu-linux-arm64" \(karpenter-nodepool-4cpu-linux-arm64\): .*196 CPU/s);
  });
});
