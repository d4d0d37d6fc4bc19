// One orchestrator replica in its own process, so a test can SIGKILL it: a crash, with no
// shutdown and no Lease release. Input: one JSON argument; prints one JSON line when ready.
import type { RuntimeEnv } from '../../../runtime/config/env.ts';
import type { LifecycleOptions } from '../../../runtime/controllers/lifecycle/start.ts';
import { silentLogger } from '../../../runtime/log.ts';
import { startOrchestrator, type OrchestratorOptions } from '../../../runtime/orchestrator.ts';
import { makeKubeConfig } from '../../../sim/k8s/kubeconfig.ts';

export interface ReplicaInput {
  env: RuntimeEnv;
  kubeconfigYaml: string;
  queuePrefix: string;
  lifecycle: LifecycleOptions;
  consumer: OrchestratorOptions['consumer'];
}

const input = JSON.parse(process.argv[2] ?? '{}') as ReplicaInput;
const o = await startOrchestrator(input.env, {
  kubeConfig: makeKubeConfig(input.kubeconfigYaml), queuePrefix: input.queuePrefix, host: '127.0.0.1', log: silentLogger(),
  lifecycle: input.lifecycle, consumer: input.consumer,
});
process.stdout.write(`${JSON.stringify({ ready: true, url: o.url })}\n`);
