import type { AppsV1Api, V1Deployment } from '@kubernetes/client-node';
import type { Valkey } from 'iovalkey';
import type { ConfigDocument } from '../../config/document.ts';
import { imageRunnerVersion, RUNNER_REPOSITORY } from '../../config/runner-release.ts';
import type { GitHubClient } from '../../github/client.ts';
import { COMPONENT, LABEL } from '../../k8s/labels.ts';
import type { Logger } from '../../log.ts';
import type { Clock } from '../../util/clock.ts';
import type { RunnerVersionMetrics } from './metrics.ts';
import { planRunnerVersion, type RunnerVersionPlan, type RunnerVersionState } from './plan.ts';

export interface RunnerVersionDeps {
  github: Pick<GitHubClient, 'getLatestRelease' | 'getReleaseByTag' | 'listInstallationIds'>;
  apps: Pick<AppsV1Api, 'listNamespacedDeployment'>;
  valkey: Valkey;
  /** Valkey key prefix of the deployment. */
  prefix: string;
  namespace: string;
  doc: () => ConfigDocument;
  clock: Clock;
  log: Logger;
  metrics: RunnerVersionMetrics;
  /** Switch after this long even if the placeholders have not pre-pulled the new release (30 min). */
  maxPrepullWaitMs?: number;
}

const PREPULL_CONTAINER = 'prepull-runner';

/**
 * Keeps runners on a current actions/runner release. With `runner.version: latest` each pass
 * reads GitHub's latest release, lets the placeholders pre-pull a newer one, then moves new
 * runners to it (planRunnerVersion); the state is shared in Valkey so every replica starts
 * runners with the same version. Either way it publishes the age of the version in use.
 * Side effects (GitHub, Kubernetes, Valkey) are here; the decision is pure.
 */
export class RunnerVersionController {
  #plan: RunnerVersionPlan | undefined;
  /** Publication time by version, once GitHub showed it (a miss is asked again next pass). */
  readonly #published = new Map<string, number>();
  #installationId: number | undefined;

  constructor(private readonly d: RunnerVersionDeps) {}

  /** The image new runner Jobs use. */
  runnerImage(): string {
    return this.#current().runnerImage;
  }

  /** The config document as placeholders should see it: pre-pulling the candidate while there is one. */
  placeholderDocument(): ConfigDocument {
    const doc = this.d.doc();
    const image = this.#current().prepullImage;
    return image === doc.runner.image ? doc : { ...doc, runner: { ...doc.runner, image } };
  }

  async reconcile(): Promise<RunnerVersionPlan> {
    const doc = this.d.doc();
    const follow = doc.runner.version === 'latest';
    const key = `${this.d.prefix}:runner-version`;
    const state = JSON.parse((await this.d.valkey.get(key)) ?? '{}') as RunnerVersionState;
    const latest = follow ? await this.#latest() : undefined;
    const plan = planRunnerVersion(state, {
      follow, image: doc.runner.image, latest, now: this.d.clock.now(), maxPrepullWaitMs: this.d.maxPrepullWaitMs ?? 30 * 60_000,
      candidatePrepulled: state.candidate ? await this.#prepulled(doc, state.candidate) : false,
    });
    if (JSON.stringify(plan.state) !== JSON.stringify(state)) await this.d.valkey.set(key, JSON.stringify(plan.state));
    if (plan.switchedTo) this.d.log.info({ version: plan.switchedTo, why: plan.switchReason, image: plan.runnerImage }, 'new runners now use the latest runner release');
    else if (plan.state.candidate && plan.state.candidate !== state.candidate)
      this.d.log.info({ version: plan.state.candidate }, 'new runner release: pre-pulling it through the placeholders before runners switch');
    this.#plan = plan;
    await this.#publish(plan, follow);
    return plan;
  }

  #current(): Pick<RunnerVersionPlan, 'runnerImage' | 'prepullImage'> {
    const image = this.d.doc().runner.image;
    // Until the first pass, and when the operator stops following, the document decides.
    if (!this.#plan || this.d.doc().runner.version !== 'latest') return { runnerImage: image, prepullImage: image };
    return this.#plan;
  }

  async #latest(): Promise<string | undefined> {
    const installationId = await this.#installation();
    if (installationId === undefined) return undefined;
    const release = await this.d.github.getLatestRelease({ ...RUNNER_REPOSITORY, installationId });
    if (!release) {
      // GHES has no actions/runner releases of its own: pin runner.image to what the server supports.
      this.d.log.warn('no actions/runner release visible through this GitHub API: keep runner.image pinned to a version the server supports');
      return undefined;
    }
    const version = release.tagName.replace(/^v/, '');
    if (release.publishedAt) this.#published.set(version, Date.parse(release.publishedAt));
    return imageRunnerVersion(`x:${version}`) ? version : undefined;
  }

  async #installation(): Promise<number | undefined> {
    this.#installationId ??= (await this.d.github.listInstallationIds())[0];
    return this.#installationId;
  }

  /** Every placeholder Deployment runs the candidate's pre-pull and is fully rolled out (or there is none). */
  async #prepulled(doc: ConfigDocument, candidate: string): Promise<boolean> {
    if (!doc.runner.prePullImages || !doc.pools.length) return true;
    const list = await this.d.apps.listNamespacedDeployment({ namespace: this.d.namespace, labelSelector: `${LABEL.component}=${COMPONENT.placeholder}` });
    return list.items.every((dep) => rolledOutWith(dep, candidate));
  }

  async #publish(plan: RunnerVersionPlan, follow: boolean): Promise<void> {
    const inUse = imageRunnerVersion(plan.runnerImage) ?? 'unknown';
    this.d.metrics.info.reset();
    this.d.metrics.info.set({ in_use: inUse, candidate: plan.state.candidate ?? '', mode: follow ? 'latest' : 'pinned' }, 1);
    const publishedAt = inUse === 'unknown' ? undefined : await this.#publishedAt(inUse);
    if (publishedAt !== undefined) this.d.metrics.age.set(Math.max(0, (this.d.clock.now() - publishedAt) / 1000));
  }

  async #publishedAt(version: string): Promise<number | undefined> {
    if (!this.#published.has(version)) {
      const installationId = await this.#installation();
      const release = installationId === undefined ? undefined : await this.d.github.getReleaseByTag({ ...RUNNER_REPOSITORY, installationId, tag: `v${version}` });
      if (release?.publishedAt) this.#published.set(version, Date.parse(release.publishedAt));
    }
    return this.#published.get(version);
  }
}

function rolledOutWith(dep: V1Deployment, version: string): boolean {
  const image = dep.spec?.template.spec?.initContainers?.find((c) => c.name === PREPULL_CONTAINER)?.image;
  const want = dep.spec?.replicas ?? 1;
  const s = dep.status;
  return !!image && imageRunnerVersion(image) === version && (dep.metadata?.generation ?? 0) <= (s?.observedGeneration ?? 0)
    && (s?.updatedReplicas ?? 0) >= want && (s?.availableReplicas ?? 0) >= want;
}
