import * as k8s from '@kubernetes/client-node';
import { Counter, Histogram, type Registry } from 'prom-client';
import { Agent } from 'undici';

export interface KubeClients {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly batch: k8s.BatchV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  close(): Promise<void>;
}

/** `KUBECONFIG` (or ~/.kube/config) when a path is given, else the pod's service account. */
export function loadKubeConfig(kubeconfig: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (kubeconfig) kc.loadFromDefault();
  else kc.loadFromCluster();
  return kc;
}

/**
 * API clients that share one keep-alive connection pool. client-node 2.x builds a new
 * undici Agent for every call to a TLS API server, so each call would pay a TCP and TLS
 * handshake; here every request is sent through one Agent instead, while authentication
 * (including rotating service-account tokens) is still applied per request.
 */
export async function createKubeClients(
  kc: k8s.KubeConfig,
  options: { registry?: Registry; connections?: number; requestTimeoutMs?: number } = {},
): Promise<KubeClients> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster: set current-context, or run in-cluster');
  const tls: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } = {};
  await kc.applyToHTTPSOptions(tls as never);
  const dispatcher = new Agent({
    connections: options.connections ?? 32,
    keepAliveTimeout: 30_000,
    connect: {
      ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !cluster.skipTLSVerify,
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      keepAlive: true, keepAliveInitialDelay: 30_000,
    },
  });
  const metrics = options.registry ? kubeMetrics(options.registry) : undefined;
  const inner = new k8s.IsomorphicFetchHttpLibrary();
  const httpApi = k8s.wrapHttpLibrary({
    async send(ctx) {
      ctx.setDispatcher(dispatcher);
      // client-node sets no deadline: a hung API server would hold a job forever.
      if (!ctx.getSignal()) ctx.setSignal(AbortSignal.timeout(options.requestTimeoutMs ?? 15_000));
      const labels = { verb: ctx.getHttpMethod().toString(), resource: resourceOf(ctx.getUrl()) };
      const end = metrics?.duration.startTimer(labels);
      try {
        const res = await inner.send(ctx).toPromise();
        metrics?.requests.inc({ ...labels, code: String(res.httpStatusCode) });
        return res;
      } catch (err) {
        metrics?.requests.inc({ ...labels, code: 'error' });
        throw err;
      } finally {
        end?.();
      }
    },
  });
  const config = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    httpApi,
  });
  return {
    kc,
    core: new k8s.CoreV1Api(config),
    batch: new k8s.BatchV1Api(config),
    apps: new k8s.AppsV1Api(config),
    coordination: new k8s.CoordinationV1Api(config),
    close: () => dispatcher.close(),
  };
}

const RESOURCES = /\/(pods|secrets|jobs|deployments|leases|events|nodes|configmaps|priorityclasses|namespaces|podtemplates)(?:\/|$|\?)/g;

/** The resource kind a request addresses (the last plural in its path): a bounded metric label. */
function resourceOf(url: string): string {
  const path = url.split('?')[0] ?? '';
  let last = 'other';
  for (const m of path.matchAll(RESOURCES)) last = m[1]!;
  return last;
}

function kubeMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'runs_fleet_kube_requests_total',
      help: 'Kubernetes API calls by verb, resource and HTTP status (or "error" for network failures).',
      labelNames: ['verb', 'resource', 'code'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'runs_fleet_kube_request_duration_seconds',
      help: 'Kubernetes API call latency.',
      labelNames: ['verb', 'resource'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

/** The HTTP status and Status.reason of a failed call (ApiException.body is a JSON string). */
export function k8sStatus(err: unknown): { code?: number; reason?: string } {
  if (!(err instanceof k8s.ApiException)) return {};
  let body: unknown = err.body;
  try {
    if (typeof body === 'string') body = JSON.parse(body);
  } catch {}
  return { code: err.code, reason: (body as { reason?: string } | undefined)?.reason };
}

export const isNotFound = (err: unknown) => k8sStatus(err).code === 404;
export const isAlreadyExists = (err: unknown) => k8sStatus(err).code === 409 && k8sStatus(err).reason === 'AlreadyExists';
export const isConflict = (err: unknown) => k8sStatus(err).code === 409 && k8sStatus(err).reason !== 'AlreadyExists';

/** Worth retrying: network errors and timeouts, 429, 5xx, and optimistic-concurrency conflicts. */
export function isTransient(err: unknown): boolean {
  const { code } = k8sStatus(err);
  if (code !== undefined) return code === 429 || code >= 500 || isConflict(err);
  // Network failures are worth retrying; an abort is a shutdown, unless it is our own per-call deadline.
  const aborted = err instanceof Error && err.name === 'AbortError';
  return !aborted || isTimeout(err as Error);
}

function isTimeout(err: Error): boolean {
  return err.name === 'TimeoutError' || (err.cause instanceof Error && err.cause.name === 'TimeoutError');
}
