import type { LifecycleOptions } from '../../../runtime/controllers/lifecycle/start.ts';
import type { ConfigDocumentInput } from '../../../runtime/config/document.ts';
import type { Orchestrator } from '../../../runtime/orchestrator.ts';
import type { SimJob } from '../../../sim/github/double.ts';
import type { Stored } from '../../../sim/k8s/api/types.ts';
import type { SimTimings } from '../../../sim/k8s/cluster.ts';
import { startRunnerAgent, type RunnerAgent, type RunnerAgentOptions } from '../../../sim/runner-agent.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack, type LocalStackOptions } from '../../../sim/stack.ts';
import { sampleDocument } from '../../support/config.ts';
import { eventually } from '../../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../../support/valkey.ts';

/** Short timings so the lifecycle reacts in test time; sweeps run when a test asks (runNow) or at leadership. */
export const FAST_LIFECYCLE: LifecycleOptions = {
  timing: { leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200 },
  resyncMs: 300,
  recoverEveryMs: 100,
  recovery: { recheckMs: 100, recheckMaxMs: 400, concludeWithinMs: 60_000 },
  sweeps: {
    staleQueued: { everyMs: 3_600_000, queuedTooLongMs: 300, stuckInQueueMs: 60_000 },
    orphans: { everyMs: 3_600_000 },
    redeliveries: { everyMs: 3_600_000, lookbackMs: 60_000, overlapMs: 1_000 },
  },
};

const FAST_SIM = { provisioningMs: 200, imagePullMs: 10, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 };
const FAST_RUNNER_START_MS = 500;
export const FAST_CONSUMER = { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 };

export const LABELS = ['self-hosted', 'runs-fleet=1/runner=2cpu-linux-arm64'];
export const REPO = { owner: 'octo-org', repo: 'app' };

export interface LifecycleStack extends LocalStack {
  agent: RunnerAgent | undefined;
}

export async function lifecycleStack(
  o: {
    doc?: Partial<ConfigDocumentInput>; lifecycle?: LifecycleOptions; agent?: Omit<RunnerAgentOptions, 'sim' | 'github' | 'namespace'>;
    replicas?: number; simTimings?: Partial<SimTimings>;
  } & Partial<Omit<LocalStackOptions, 'doc'>> = {},
): Promise<LifecycleStack> {
  const { doc, lifecycle, agent: agentOptions, simTimings, ...rest } = o;
  const s = await startLocalStack({
    doc: sampleDocument(doc), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('lifecycle'),
    sim: { timings: { ...FAST_SIM, ...simTimings } }, orchestrator: { consumer: FAST_CONSUMER, lifecycle: lifecycle ?? FAST_LIFECYCLE }, ...rest,
  });
  // As fast as FAST_SIM: these tests are about the lifecycle, not about how long a runner takes to start.
  const agent = agentOptions ? startRunnerAgent({ sim: s.sim, github: s.github, namespace: RUNNER_NAMESPACE, startupMs: FAST_RUNNER_START_MS, ...agentOptions }) : undefined;
  const stop = s.stop;
  return Object.assign(s, {
    agent,
    stop: async () => {
      agent?.stop();
      await stop();
    },
  });
}

export async function leaderOf(s: LocalStack): Promise<Orchestrator> {
  const [leader] = await eventually(() => s.orchestrators.filter((o) => o.lifecycle.isLeader()), (l) => l.length === 1);
  return leader!;
}

export const runnerPods = (s: LocalStack, jobName?: string): Stored[] =>
  s.sim.store.list('pods', { namespace: RUNNER_NAMESPACE }).filter((p) => !jobName || p.metadata.ownerReferences?.some((r) => r.name === jobName));

export const runnerJobs = (s: LocalStack): Stored[] => s.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE });

/** The value of one sample in Prometheus text, 0 when absent. */
export async function metric(o: Orchestrator, name: string, labels: Record<string, string> = {}): Promise<number> {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of (await o.registry.metrics()).split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{ ]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

/** Every attempt of a run's job, oldest first, found through the queued webhooks GitHub sent. */
export function attempts(s: LocalStack, runId: number): SimJob[] {
  const ids = new Set<number>();
  for (const d of s.github.listDeliveries()) {
    if (d.event !== 'workflow_job' || d.action !== 'queued') continue;
    const job = (JSON.parse(d.request.body) as { workflow_job: { id: number; run_id: number } }).workflow_job;
    if (job.run_id === runId) ids.add(job.id);
  }
  return [...ids].map((id) => s.github.getJob(id)!).sort((a, b) => a.runAttempt - b.runAttempt);
}
