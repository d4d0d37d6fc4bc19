import { compareVersions, imageRunnerVersion, imageWithVersion } from '../../config/runner-release.ts';

/** What the replicas share (in Valkey) about the runner version they follow. */
export interface RunnerVersionState {
  /** The version new runners start with. */
  inUse?: string;
  /** A newer release being pre-pulled through the placeholders before runners switch to it. */
  candidate?: string;
  /** Epoch ms the candidate was first seen. */
  candidateSince?: number;
}

export interface RunnerVersionObserved {
  /** `runner.version: latest` in the config document. */
  follow: boolean;
  /** `runner.image`: pinned, and the image (repository) the followed versions are tags of. */
  image: string;
  /** GitHub's latest runner release, when known. */
  latest: string | undefined;
  /** Every placeholder runs the candidate's image (pre-pulled on its node), or there is nothing to pre-pull through. */
  candidatePrepulled: boolean;
  now: number;
  /** Switch anyway after this long: a pool that cannot roll out (no capacity) must not pin runners to an old release for ever. */
  maxPrepullWaitMs: number;
}

export interface RunnerVersionPlan {
  state: RunnerVersionState;
  /** The image new runner Jobs use. */
  runnerImage: string;
  /** The image placeholders pre-pull (the candidate while there is one). */
  prepullImage: string;
  /** Set on the pass that moved runners to a new version. */
  switchedTo?: string;
  /** Why it switched: the placeholders pre-pulled it, or the wait ran out. */
  switchReason?: 'prepulled' | 'prepull_timeout';
}

/**
 * The runner version decision, pure: pinned → the image as written. Following → the version
 * in use moves only forward: a newer release becomes the candidate, the placeholders pre-pull
 * it, and once they all run it (or the wait runs out) new runners switch to it. A pinned
 * image newer than the version in use (the operator raised it) is taken at once.
 */
export function planRunnerVersion(state: RunnerVersionState, o: RunnerVersionObserved): RunnerVersionPlan {
  const pinned = imageRunnerVersion(o.image);
  if (!o.follow || !pinned) return { state: {}, runnerImage: o.image, prepullImage: o.image };
  const newer = (a: string | undefined, b: string) => a !== undefined && compareVersions(a, b) > 0;

  let inUse = state.inUse && !newer(pinned, state.inUse) ? state.inUse : pinned;
  let candidate = state.candidate && newer(state.candidate, inUse) ? state.candidate : undefined;
  let candidateSince = candidate ? state.candidateSince : undefined;
  if (newer(o.latest, candidate ?? inUse)) {
    candidate = o.latest;
    candidateSince = o.now;
  }
  let switchedTo: string | undefined;
  let switchReason: RunnerVersionPlan['switchReason'];
  if (candidate && candidateSince !== undefined) {
    const waited = o.now - candidateSince >= o.maxPrepullWaitMs;
    // A candidate seen just now is not pre-pulled yet, whatever the placeholders say.
    const prepulled = o.candidatePrepulled && candidateSince < o.now;
    if (prepulled || waited) {
      switchedTo = candidate;
      switchReason = prepulled ? 'prepulled' : 'prepull_timeout';
      inUse = candidate;
      candidate = undefined;
      candidateSince = undefined;
    }
  }
  const runnerImage = inUse === pinned ? o.image : imageWithVersion(o.image, inUse);
  const next: RunnerVersionState = { inUse, ...(candidate && { candidate, candidateSince }) };
  return {
    state: next, runnerImage, prepullImage: candidate ? imageWithVersion(o.image, candidate) : runnerImage,
    ...(switchedTo && { switchedTo, switchReason }),
  };
}
