import type { Registry } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import type { Stored } from '../api/types.ts';
import type { SimClock, SimTimer } from '../clock.ts';
import { isPauseImage, type OutcomeRules, type PodOutcome } from '../model/outcomes.ts';
import { isTerminal, setCondition } from '../model/pods.ts';
import { isoSeconds } from '../model/time.ts';
import type { StoreEvent } from '../store/store.ts';

const podsT = resource('pods');
const nodesT = resource('nodes');
const secretsT = resource('secrets');

export interface KubeletTimings {
  /** Pulling an image not yet on the node (a node pulls each image once). */
  imagePullMs: number | ((image: string) => number);
  /** From "image present" to the container running. */
  containerStartMs: number;
  /** From running to ready, for containers with a readinessProbe (or a sidecar's startupProbe). */
  readinessMs: number;
}

export interface KubeletOptions {
  timings: KubeletTimings;
  /** How long a container runs before exiting 0; undefined: until the pod is deleted. */
  containerRunMs: (pod: Stored, container: any) => number | undefined;
  /** How long a container takes to stop after SIGTERM; undefined or ≥ grace: killed at the grace period. */
  containerStopMs: (pod: Stored, container: any) => number | undefined;
  outcomes: OutcomeRules;
}

interface Run {
  uid: string;
  ns: string;
  name: string;
  node: string;
  timers: SimTimer[];
  stopping: boolean;
  /** Main containers still running (by name). */
  running: Set<string>;
  exitCodes: Map<string, number>;
}

/**
 * The kubelet, per node, as a model: image pulls (cached per node), init containers in order
 * (a native sidecar — restartPolicy Always — keeps running and the next init starts once it
 * started), main containers that run for containerRunMs then exit, readiness, restarts for
 * restartPolicy Always/OnFailure, injected outcomes (exit code, OOMKilled, ImagePullBackOff),
 * and graceful termination: SIGTERM at deletion, SIGKILL at the grace period, then removal.
 */
export class Kubelet {
  private readonly runs = new Map<string, Run>();
  private readonly images = new Map<string, Map<string, number>>();
  private ipCounter = 10;
  private readonly off: () => void;

  constructor(
    private readonly api: Registry,
    private readonly clock: SimClock,
    private readonly o: KubeletOptions,
  ) {
    this.off = api.store.onEvent((e) => this.observe(e));
  }

  stop(): void {
    this.off();
    for (const run of this.runs.values()) this.cancel(run);
    this.runs.clear();
  }

  /** Re-applies outcome rules to running pods (called after setPodOutcome). */
  refreshOutcomes(): void {
    for (const run of this.runs.values()) {
      if (run.stopping) continue;
      const pod = this.api.find(podsT, run.ns, run.name);
      const outcome = pod && this.o.outcomes.resolve(pod);
      if (!pod || !outcome || outcome.type === 'imagePullBackOff' || pod.status?.phase !== 'Running') continue;
      const target = outcome.container ?? pod.spec.containers[0]?.name;
      if (!run.running.has(target)) continue;
      this.later(run, outcome.afterMs ?? 0, () => this.containerExited(run, target, exitFor(outcome)));
    }
  }

  private observe(e: StoreEvent): void {
    if (e.resource === nodesT && e.type === 'DELETED') {
      for (const run of [...this.runs.values()]) if (run.node === e.object.metadata.name) this.forget(run);
      return;
    }
    if (e.resource !== podsT) return;
    const pod = e.object;
    const run = this.runs.get(pod.metadata.uid);
    if (e.type === 'DELETED') {
      if (run) this.forget(run);
      return;
    }
    const node = pod.spec?.nodeName;
    if (!node) return;
    if (!run) {
      if (isTerminal(pod) || e.old?.spec?.nodeName === node && !pod.metadata.deletionTimestamp) return;
      if (!this.api.find(nodesT, '', node)) return;
      const r = this.track(pod, node);
      if (pod.metadata.deletionTimestamp) this.clock.setTimer(0, () => this.terminate(r));
      else this.clock.setTimer(0, () => this.start(r));
      return;
    }
    if (pod.metadata.deletionTimestamp && !run.stopping) {
      run.stopping = true;
      this.clock.setTimer(0, () => this.terminate(run));
    }
  }

  private track(pod: Stored, node: string): Run {
    const run: Run = { uid: pod.metadata.uid, ns: pod.metadata.namespace ?? '', name: pod.metadata.name, node, timers: [], stopping: false, running: new Set(), exitCodes: new Map() };
    this.runs.set(run.uid, run);
    return run;
  }

  private forget(run: Run): void {
    this.cancel(run);
    this.runs.delete(run.uid);
  }

  private cancel(run: Run): void {
    for (const t of run.timers) t.cancel();
    run.timers = [];
  }

  private later(run: Run, ms: number, fn: () => void): void {
    run.timers.push(this.clock.setTimer(ms, () => this.runs.get(run.uid) === run && fn()));
  }

  private pod(run: Run): Stored | undefined {
    const p = this.api.find(podsT, run.ns, run.name);
    return p && p.metadata.uid === run.uid ? p : undefined;
  }

  private write(run: Run, fn: (status: any, pod: Stored) => void): void {
    const pod = this.pod(run);
    if (!pod) return;
    this.api.mutate(podsT, run.ns, run.name, (d) => {
      d.status ??= {};
      fn(d.status, d);
    });
  }

  private now(): string {
    return isoSeconds(this.clock.now());
  }

  private start(run: Run): void {
    const pod = this.pod(run);
    if (!pod || run.stopping) return;
    const node = this.api.find(nodesT, '', run.node);
    const hostIP = node?.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
    const n = this.ipCounter++;
    const inits: any[] = pod.spec.initContainers ?? [];
    const time = this.now();
    this.write(run, (s) => {
      s.phase = 'Pending';
      s.hostIP = hostIP;
      s.hostIPs = [{ ip: hostIP }];
      s.podIP = `10.${128 + ((n >> 16) & 127)}.${(n >> 8) & 255}.${n & 255}`;
      s.podIPs = [{ ip: s.podIP }];
      s.startTime = time;
      setCondition(s, { type: 'PodReadyToStartContainers', status: 'False' }, time, { lastProbeTime: null });
      setCondition(s, inits.some((c) => c.restartPolicy !== 'Always') ? { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${inits.filter((c) => c.restartPolicy !== 'Always').map((c) => c.name).join(' ')}]` } : { type: 'Initialized', status: 'True' }, time, { lastProbeTime: null });
      setCondition(s, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${pod.spec.containers.map((c: any) => c.name).join(' ')}]` }, time, { lastProbeTime: null });
      setCondition(s, { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${pod.spec.containers.map((c: any) => c.name).join(' ')}]` }, time, { lastProbeTime: null });
      if (inits.length) s.initContainerStatuses = inits.map((c) => waiting(c, 'PodInitializing'));
      s.containerStatuses = pod.spec.containers.map((c: any) => waiting(c, inits.length ? 'PodInitializing' : 'ContainerCreating'));
    });
    const outcome = this.o.outcomes.resolve(pod);
    const all = [...inits, ...pod.spec.containers];
    const readyAt = Math.max(this.clock.now(), ...[...new Set(all.map((c) => String(c.image)))].map((img) => this.imageReadyAt(run.node, img)));
    if (outcome?.type === 'imagePullBackOff') {
      const target = outcome.container ?? pod.spec.containers[0]?.name;
      this.later(run, readyAt - this.clock.now(), () => this.pullFailed(run, target, 'ErrImagePull'));
      this.later(run, readyAt - this.clock.now() + 10_000, () => this.pullFailed(run, target, 'ImagePullBackOff'));
      return;
    }
    this.later(run, readyAt - this.clock.now(), () => this.runInit(run, 0, outcome));
  }

  /** When `image` is on `node`: now if cached, else when its (possibly ongoing) pull ends. */
  private imageReadyAt(node: string, image: string): number {
    let cache = this.images.get(node);
    if (!cache) this.images.set(node, (cache = new Map()));
    const known = cache.get(image);
    if (known !== undefined) return known;
    const t = this.o.timings.imagePullMs;
    const at = this.clock.now() + (typeof t === 'function' ? t(image) : t);
    cache.set(image, at);
    return at;
  }

  private pullFailed(run: Run, container: string | undefined, reason: string): void {
    const pod = this.pod(run);
    const image = pod?.spec.containers.find((c: any) => c.name === container)?.image ?? '';
    this.write(run, (s) => {
      const cs = (s.containerStatuses ?? []).find((c: any) => c.name === container);
      if (cs) cs.state = { waiting: { reason, message: reason === 'ErrImagePull' ? `failed to pull and unpack image "${image}": not found` : `Back-off pulling image "${image}"` } };
    });
  }

  private runInit(run: Run, i: number, outcome: PodOutcome | undefined): void {
    const pod = this.pod(run);
    if (!pod || run.stopping) return;
    const inits: any[] = pod.spec.initContainers ?? [];
    if (i >= inits.length) return this.startMain(run, outcome);
    const c = inits[i];
    const { containerStartMs, readinessMs } = this.o.timings;
    this.later(run, containerStartMs, () => {
      const time = this.now();
      const sidecar = c.restartPolicy === 'Always';
      const probed = !!(c.readinessProbe || c.startupProbe);
      this.write(run, (s) => {
        setContainer(s.initContainerStatuses, c.name, { ready: sidecar && !probed, started: true, state: { running: { startedAt: time } } });
        setCondition(s, { type: 'PodReadyToStartContainers', status: 'True' }, time, { lastProbeTime: null });
      });
      if (sidecar) {
        // The next init container starts once the sidecar has started (its startup probe passed).
        const wait = c.startupProbe ? readinessMs : 0;
        if (probed) this.later(run, readinessMs, () => this.write(run, (s) => setContainer(s.initContainerStatuses, c.name, { ready: true })));
        this.later(run, wait, () => this.runInit(run, i + 1, outcome));
        return;
      }
      const code = outcome && outcome.container === c.name ? exitFor(outcome) : { exitCode: 0, reason: 'Completed' };
      const injectedAfter = outcome && outcome.container === c.name && outcome.type !== 'imagePullBackOff' ? outcome.afterMs : undefined;
      // Regular init containers finish at once unless an outcome says otherwise (run-ms is for main containers).
      const ms = injectedAfter ?? 0;
      this.later(run, ms, () => {
        const t2 = this.now();
        this.write(run, (s) => setContainer(s.initContainerStatuses, c.name, { ready: false, started: false, state: { terminated: { exitCode: code.exitCode, reason: code.reason, startedAt: time, finishedAt: t2, containerID: this.containerId() } } }));
        if (code.exitCode !== 0 && pod.spec.restartPolicy === 'Never') return this.finish(run, 'Failed', `Init:${code.reason}`);
        this.runInit(run, i + 1, outcome);
      });
    });
  }

  private startMain(run: Run, outcome: PodOutcome | undefined): void {
    const { containerStartMs, readinessMs } = this.o.timings;
    this.later(run, containerStartMs, () => {
      const pod = this.pod(run);
      if (!pod || run.stopping) return;
      const time = this.now();
      // As the real kubelet: a container whose env names a Secret that does not exist yet
      // cannot be created; the pod is synced again after the pod worker's 10 s back-off.
      const missing = missingSecret(pod, (name) => this.api.find(secretsT, run.ns, name) !== undefined);
      if (missing) {
        this.write(run, (s) => {
          for (const c of pod.spec.containers as any[])
            setContainer(s.containerStatuses, c.name, { state: { waiting: { reason: 'CreateContainerConfigError', message: `secret "${missing}" not found` } } });
        });
        this.later(run, SECRET_RETRY_MS, () => this.startMain(run, outcome));
        return;
      }
      const containers: any[] = pod.spec.containers;
      for (const c of containers) run.running.add(c.name);
      this.write(run, (s) => {
        s.phase = 'Running';
        setCondition(s, { type: 'PodReadyToStartContainers', status: 'True' }, time, { lastProbeTime: null });
        setCondition(s, { type: 'Initialized', status: 'True' }, time, { lastProbeTime: null });
        for (const c of containers) setContainer(s.containerStatuses, c.name, { ready: !c.readinessProbe, started: true, state: { running: { startedAt: time } }, containerID: this.containerId() });
        refreshReady(s, time);
      });
      if (containers.some((c) => c.readinessProbe))
        this.later(run, readinessMs, () =>
          this.write(run, (s) => {
            for (const c of containers) if (run.running.has(c.name)) setContainer(s.containerStatuses, c.name, { ready: true });
            refreshReady(s, this.now());
          }),
        );
      for (const c of containers) this.scheduleExit(run, pod, c, outcome);
    });
  }

  private scheduleExit(run: Run, pod: Stored, c: any, outcome: PodOutcome | undefined): void {
    const targeted = outcome && outcome.type !== 'imagePullBackOff' && (outcome.container ?? pod.spec.containers[0]?.name) === c.name ? outcome : undefined;
    const runMs = isPauseImage(c.image) ? undefined : this.o.containerRunMs(pod, c);
    const ms = targeted ? targeted.afterMs ?? runMs ?? 0 : runMs;
    if (ms === undefined) return;
    this.later(run, ms, () => this.containerExited(run, c.name, targeted ? exitFor(targeted) : { exitCode: 0, reason: 'Completed' }));
  }

  private containerExited(run: Run, name: string, code: { exitCode: number; reason: string }): void {
    const pod = this.pod(run);
    if (!pod || run.stopping || !run.running.has(name)) return;
    run.running.delete(name);
    run.exitCodes.set(name, code.exitCode);
    const time = this.now();
    const policy = pod.spec.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && code.exitCode !== 0);
    this.write(run, (s) => {
      const cs = (s.containerStatuses ?? []).find((x: any) => x.name === name);
      const startedAt = cs?.state?.running?.startedAt ?? time;
      const terminated = { exitCode: code.exitCode, reason: code.reason, startedAt, finishedAt: time, containerID: cs?.containerID };
      if (restart) setContainer(s.containerStatuses, name, { ready: false, started: false, lastState: { terminated }, restartCount: (cs?.restartCount ?? 0) + 1, state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${name}` } } });
      else setContainer(s.containerStatuses, name, { ready: false, started: false, state: { terminated } });
      refreshReady(s, time);
    });
    if (restart) {
      const restarts = (this.pod(run)?.status?.containerStatuses ?? []).find((x: any) => x.name === name)?.restartCount ?? 1;
      this.later(run, Math.min(10_000 * 2 ** (restarts - 1), 300_000), () => {
        const p = this.pod(run);
        if (!p || run.stopping) return;
        run.running.add(name);
        const t = this.now();
        this.write(run, (s) => {
          setContainer(s.containerStatuses, name, { ready: true, started: true, state: { running: { startedAt: t } } });
          refreshReady(s, t);
        });
        // A restarted container meets the same fate (an injected crash crashes again).
        this.scheduleExit(run, p, p.spec.containers.find((c: any) => c.name === name), this.o.outcomes.resolve(p));
      });
      return;
    }
    if (run.running.size === 0) {
      const failed = [...run.exitCodes.values()].some((x) => x !== 0);
      this.finish(run, failed ? 'Failed' : 'Succeeded', failed ? 'PodFailed' : 'PodCompleted');
    }
  }

  /** The main containers are done: sidecars are stopped and the pod reaches its terminal phase. */
  private finish(run: Run, phase: 'Succeeded' | 'Failed', reason: string): void {
    const time = this.now();
    this.cancel(run);
    this.write(run, (s) => {
      s.phase = phase;
      for (const cs of s.initContainerStatuses ?? []) if (cs.state?.running) Object.assign(cs, { ready: false, started: false, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: cs.state.running.startedAt, finishedAt: time, containerID: cs.containerID } } });
      setCondition(s, { type: 'Ready', status: 'False', reason }, time, { lastProbeTime: null });
      setCondition(s, { type: 'ContainersReady', status: 'False', reason }, time, { lastProbeTime: null });
      setCondition(s, { type: 'PodReadyToStartContainers', status: 'False' }, time, { lastProbeTime: null });
    });
    this.runs.delete(run.uid);
  }

  /** Graceful termination: every running container gets SIGTERM, stops (or is killed at the grace period), then the pod goes. */
  private terminate(run: Run): void {
    this.cancel(run);
    run.stopping = true;
    const pod = this.pod(run);
    if (!pod) return this.forget(run);
    if (isTerminal(pod) || !pod.status?.startTime) return this.remove(run);
    const graceMs = (pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    const containers = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    let last = 0;
    const plan = new Map<string, { ms: number; code: { exitCode: number; reason: string } }>();
    for (const c of containers) {
      const wanted = isPauseImage(c.image) ? 0 : this.o.containerStopMs(pod, c);
      const ms = wanted === undefined || wanted >= graceMs ? graceMs : wanted;
      const code = ms >= graceMs && graceMs > 0 ? { exitCode: 137, reason: 'Error' } : isPauseImage(c.image) ? { exitCode: 0, reason: 'Completed' } : { exitCode: 143, reason: 'Error' };
      plan.set(c.name, { ms, code });
      last = Math.max(last, ms);
    }
    this.later(run, last, () => {
      const time = this.now();
      this.write(run, (s) => {
        let failed = false;
        for (const list of [s.initContainerStatuses ?? [], s.containerStatuses ?? []]) {
          for (const cs of list) {
            if (cs.state?.terminated) {
              if (cs.state.terminated.exitCode !== 0 && list === s.containerStatuses) failed = true;
              continue;
            }
            const p = plan.get(cs.name) ?? { code: { exitCode: 137, reason: 'Error' } };
            if (p.code.exitCode !== 0 && list === s.containerStatuses) failed = true;
            Object.assign(cs, { ready: false, started: false, state: { terminated: { exitCode: p.code.exitCode, reason: p.code.reason, startedAt: cs.state?.running?.startedAt ?? time, finishedAt: time, containerID: cs.containerID } } });
          }
        }
        // Since 1.27 a deleted pod reaches a terminal phase before it is removed.
        s.phase = failed ? 'Failed' : 'Succeeded';
        setCondition(s, { type: 'Ready', status: 'False', reason: 'PodCompleted' }, time, { lastProbeTime: null });
        setCondition(s, { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' }, time, { lastProbeTime: null });
      });
      this.remove(run);
    });
  }

  private remove(run: Run): void {
    this.forget(run);
    try {
      this.api.delete(podsT, run.ns, run.name, { gracePeriodSeconds: 0, preconditions: { uid: run.uid } });
    } catch {
      // already gone
    }
  }

  private containerId(): string {
    return `containerd://${this.api.rng.hex(24)}`;
  }
}

function exitFor(o: PodOutcome): { exitCode: number; reason: string } {
  if (o.type === 'oomKilled') return { exitCode: 137, reason: 'OOMKilled' };
  if (o.type === 'exit') return { exitCode: o.exitCode, reason: o.exitCode === 0 ? 'Completed' : 'Error' };
  return { exitCode: 1, reason: 'Error' };
}

/** The kubelet pod worker's back-off before it syncs a pod whose containers could not be created. */
const SECRET_RETRY_MS = 10_000;

function missingSecret(pod: Stored, exists: (name: string) => boolean): string | undefined {
  for (const c of (pod.spec.containers ?? []) as any[])
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref?.name && !ref.optional && !exists(ref.name)) return ref.name;
    }
  return undefined;
}

function waiting(c: any, reason: string) {
  return { name: c.name, image: c.image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason } } };
}

function setContainer(list: any[] | undefined, name: string, patch: Record<string, unknown>): void {
  const cs = list?.find((x) => x.name === name);
  if (cs) {
    Object.assign(cs, patch);
    if (patch.state && (patch.state as any).running) cs.imageID ||= `${cs.image}@sha256:${'0'.repeat(64)}`;
  }
}

/** Pod Ready = every main container and every sidecar is ready. */
function refreshReady(s: any, time: string): void {
  const runningSidecars = (s.initContainerStatuses ?? []).filter((c: any) => c.state?.running);
  const unready = [...(s.containerStatuses ?? []), ...runningSidecars].filter((c: any) => !c.ready).map((c: any) => c.name);
  const cond = unready.length
    ? { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` }
    : { status: 'True' };
  setCondition(s, { type: 'ContainersReady', ...cond }, time, { lastProbeTime: null });
  setCondition(s, { type: 'Ready', ...cond }, time, { lastProbeTime: null });
}
