import type { KObject } from '../api/types.ts';
import { parseLabelSelector } from '../api/selectors.ts';

/** How a pod's main container ends, injected by tests to exercise failure handling. */
export type PodOutcome =
  | { type: 'exit'; exitCode: number; afterMs?: number; container?: string }
  | { type: 'oomKilled'; afterMs?: number; container?: string }
  | { type: 'imagePullBackOff'; container?: string };

/** Which pods an outcome applies to: a pod name, a selector, or a predicate. */
export type PodMatch = string | { namespace?: string; name?: string; labelSelector?: string } | ((pod: KObject) => boolean);

/** Annotation a pod (or a pod template) can carry instead: `exit:1`, `exit:1@5000`, `oom`, `oom@3000`, `image-pull-backoff`. */
export const OUTCOME_ANNOTATION = 'sim.runs-fleet.io/outcome';
/** How long the main containers run, in milliseconds (the default containerRunMs reads it). */
export const RUN_MS_ANNOTATION = 'sim.runs-fleet.io/run-ms';

export function parseOutcome(s: string | undefined): PodOutcome | undefined {
  if (!s) return undefined;
  const [kind, after] = s.trim().split('@');
  const afterMs = after !== undefined && after !== '' ? Number(after) : undefined;
  if (kind === 'oom') return { type: 'oomKilled', afterMs };
  if (kind === 'image-pull-backoff') return { type: 'imagePullBackOff' };
  const m = /^exit:(\d+)$/.exec(kind ?? '');
  if (m) return { type: 'exit', exitCode: Number(m[1]), afterMs };
  return undefined;
}

function toPredicate(match: PodMatch): (pod: KObject) => boolean {
  if (typeof match === 'function') return match;
  if (typeof match === 'string') return (pod) => pod.metadata.name === match;
  const labels = parseLabelSelector(match.labelSelector);
  return (pod) =>
    (match.namespace === undefined || pod.metadata.namespace === match.namespace) &&
    (match.name === undefined || pod.metadata.name === match.name) &&
    labels(pod.metadata.labels);
}

/** Registered outcomes; the latest matching rule wins, then the pod's annotation. */
export class OutcomeRules {
  private readonly rules: { match: (pod: KObject) => boolean; outcome: PodOutcome | undefined }[] = [];

  add(match: PodMatch, outcome: PodOutcome | undefined): void {
    this.rules.push({ match: toPredicate(match), outcome });
  }

  resolve(pod: KObject): PodOutcome | undefined {
    for (let i = this.rules.length - 1; i >= 0; i--) if (this.rules[i]!.match(pod)) return this.rules[i]!.outcome;
    return parseOutcome(pod.metadata.annotations?.[OUTCOME_ANNOTATION]);
  }
}

/** The default `containerRunMs`: the pod's run-ms annotation for ordinary containers; pause and unannotated pods run until deleted. */
export function defaultContainerRunMs(pod: KObject, container: { image?: string }): number | undefined {
  if (isPauseImage(container.image)) return undefined;
  const v = pod.metadata.annotations?.[RUN_MS_ANNOTATION];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function isPauseImage(image: string | undefined): boolean {
  return !!image && /(^|\/)pause(:|@|$)/.test(image);
}
