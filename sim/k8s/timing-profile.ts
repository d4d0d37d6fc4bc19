import { EKS_DAEMONSETS } from '../../runtime/capacity/daemonsets.ts';

/**
 * How long things take on EKS + Karpenter, each number with where it comes from. One profile,
 * used by the sim's defaults (tests, benchmarks) and, scaled, by local mode (sim/local.ts).
 * Calibrated so that the two end-to-end figures the seeds measured come out:
 *   warm start (node and images there) ≈ 3–5 s, cold start (new node) ≈ 2 min
 *   (../shared/seeds/design-k8s-migration.md "Cold start ~2 min | Warm start ~3-5s").
 */

/** Image sizes, unpacked on disk (what containerd writes before a container can start). */
export const IMAGE_MB: Readonly<Record<string, number>> = {
  // actions/runner#3726 (2025-02): the runner image is 1.55 GiB uncompressed (1.68 GiB with compose).
  'ghcr.io/actions/actions-runner': 1664,
  // docker-library/docker#585 (2026-09): docker:dind is 528 MB unpacked (137 MB content).
  docker: 528,
  // registry.k8s.io/pause is well under 1 MB.
  'registry.k8s.io/pause': 1,
};

/**
 * Effective pull rate in MB of unpacked image per second (download + unpack, which containerd's
 * overlayfs snapshotter does before start). knechtions.com "Decreasing Container Image Pull
 * Times" (2026-03, EKS and AKS): a 9 GB (unpacked) image took ≈ 5 min to pull plus ≈ 3 min to
 * unpack, ≈ 19 MB/s. With it the runner image takes ≈ 89 s, which with the node launch below
 * gives the seeds' ≈ 2 min cold start.
 */
export const PULL_MB_PER_S = 19;

/** The DaemonSets' images are pulled while the node boots, before it is Ready (part of the launch time). */
const BOOT_IMAGES = new Set(EKS_DAEMONSETS.flatMap((d) => [...d.initContainers, ...d.containers].map((c) => c.image)));

function repository(image: string): string {
  const at = image.indexOf('@');
  const noDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

/** MB for an image we know the size of; others count as a small 50 MB image. */
export function imageMB(image: string): number {
  return IMAGE_MB[repository(image)] ?? 50;
}

/** Pull time on a node that lacks the image. */
export function imagePullMs(image: string): number {
  if (BOOT_IMAGES.has(image)) return 0;
  return Math.round((imageMB(image) / PULL_MB_PER_S) * 1000);
}

export interface TimingProfile {
  /**
   * Karpenter's decision → Node Ready. karpenter-provider-aws#6165 (maintainer, 2024-05): "We
   * typically see new nodes come up in about 30-40s in a ready state"; amazon-eks-ami#1099: kubelet
   * registration at 39 s on c5.xlarge; ARC users 40 s (#3516) to 2 min (#3450), peer-systems.md.
   */
  provisioningMs: number;
  /** Karpenter's batch window: BATCH_IDLE_DURATION 1 s / BATCH_MAX_DURATION 10 s (karpenter.sh settings defaults). */
  batchIdleMs: number;
  batchMaxMs: number;
  imagePullMs: (image: string) => number;
  /** Image present → container running (containerd create + start). Calibrated with the next two to the seeds' warm 3–5 s. */
  containerStartMs: number;
  /** dockerd's startup probe (`docker info`) passing after the dind sidecar starts; calibrated (warm 3–5 s). */
  readinessMs: number;
  /** Runner container running → listening for its job (JIT config: no registration round trip); calibrated (warm 3–5 s). */
  runnerStartMs: number;
}

export const EKS_TIMINGS: TimingProfile = {
  provisioningMs: 40_000,
  batchIdleMs: 1_000,
  batchMaxMs: 10_000,
  imagePullMs,
  containerStartMs: 500,
  readinessMs: 1_000,
  runnerStartMs: 2_000,
};

/**
 * Warm: container start (dind) + its probe + container start (runner) + runner start.
 * Cold: the batch window + launch + the longest pull (runner and dind pull in parallel) + warm.
 */
export function expectedStartMs(p: TimingProfile, images: readonly string[]): { warmMs: number; coldMs: number } {
  const warmMs = 2 * p.containerStartMs + p.readinessMs + p.runnerStartMs;
  const pullMs = Math.max(0, ...images.map((i) => p.imagePullMs(i)));
  return { warmMs, coldMs: p.batchIdleMs + p.provisioningMs + pullMs + warmMs };
}

/** The profile with every delay multiplied by `scale` (local mode runs at a fraction of real time). */
export function scaleTimings(p: TimingProfile, scale: number): TimingProfile {
  const s = (ms: number) => Math.max(1, Math.round(ms * scale));
  return {
    provisioningMs: s(p.provisioningMs),
    batchIdleMs: s(p.batchIdleMs),
    batchMaxMs: s(p.batchMaxMs),
    imagePullMs: (image) => s(p.imagePullMs(image)),
    containerStartMs: s(p.containerStartMs),
    readinessMs: s(p.readinessMs),
    runnerStartMs: s(p.runnerStartMs),
  };
}
