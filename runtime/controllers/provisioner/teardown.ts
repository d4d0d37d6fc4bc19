import type { GitHubClient, RunnerScope } from '../../github/client.ts';
import { isNotFound, type KubeClients } from '../../k8s/client.ts';

export interface RunnerObjects {
  /** Name of the runner Job and of its Secret (they share it). */
  jobName?: string;
  runnerId?: number;
  scope?: RunnerScope;
  owner: string;
  repo: string;
  installationId?: number;
}

export interface TeardownDeps {
  kube: Pick<KubeClients, 'core' | 'batch'>;
  github: Pick<GitHubClient, 'deleteRunner'>;
  namespace: string;
  signal?: AbortSignal;
}

/**
 * Removes what runs-fleet made for a job that will never use it: the Job, its Secret (the
 * Job may not own it yet), and the registered runner. Idempotent: what is already gone is
 * skipped, so provisioning and the cancellation handler may both run it.
 */
export async function removeRunnerObjects(o: RunnerObjects, deps: TeardownDeps): Promise<void> {
  const gone = (err: unknown) => {
    if (!isNotFound(err)) throw err;
  };
  if (o.jobName) {
    const ref = { name: o.jobName, namespace: deps.namespace };
    await Promise.all([
      deps.kube.batch.deleteNamespacedJob({ ...ref, propagationPolicy: 'Background' }).catch(gone),
      deps.kube.core.deleteNamespacedSecret(ref).catch(gone),
    ]);
  }
  if (o.runnerId !== undefined && o.installationId !== undefined) {
    await deps.github.deleteRunner(
      { scope: o.scope ?? 'repo', owner: o.owner, repo: o.repo, installationId: o.installationId, runnerId: o.runnerId },
      { signal: deps.signal },
    );
  }
}
