import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import { LABEL, MANAGED_BY } from '../runtime/k8s/labels.ts';
import type { StackConfig } from './config.ts';
import { systemPlacement } from './system-nodes.ts';

export const VALKEY_PORT = 6379;
export const VALKEY_SERVICE = 'valkey';
/** Keys of the Valkey Secret: the password (for clients) and a config file holding it (for the server). */
export const VALKEY_SECRET_KEYS = { password: 'password', config: 'auth.conf' } as const;
/** The image's `valkey` user. */
const VALKEY_UID = 999;

export interface ValkeyArgs {
  /** The system namespace. */
  readonly namespace: pulumi.Input<string>;
  /** Image, disk and resources (`runs-fleet:valkey`). */
  readonly settings: StackConfig['valkey'];
  readonly storageClassName: pulumi.Input<string>;
  /** Labels of the only pods allowed to connect (the orchestrator's). */
  readonly clientLabels: Record<string, string>;
}

/**
 * Valkey for the job queue: one StatefulSet replica with an append-only file on an EBS
 * volume, a generated password (kept in Pulumi state, so it is stable across `up`s) in a
 * Secret, probes, a PDB so voluntary evictions do not take it down unannounced, and a
 * NetworkPolicy that admits only the orchestrator.
 */
export class Valkey extends pulumi.ComponentResource {
  /** `redis://valkey.<namespace>.svc:6379` (no password; that comes from the Secret). */
  readonly url: pulumi.Output<string>;
  readonly host: pulumi.Output<string>;
  readonly port: number;
  /** Name of the Secret holding `password`. */
  readonly secretName: pulumi.Output<string>;

  constructor(name: string, args: ValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super('runs-fleet:infra:Valkey', name, {}, opts);
    if (Object.keys(args.clientLabels).length === 0) throw new Error('Valkey needs the client pod labels for its NetworkPolicy; an empty selector would admit every pod');
    const s = args.settings;
    const labels = { [LABEL.name]: 'valkey', [LABEL.managedBy]: MANAGED_BY };

    // No special characters: the password goes into a URL and a config file unescaped.
    const password = new random.RandomPassword(`${name}-password`, { length: 40, special: false }, { parent: this });
    const secret = new k8s.core.v1.Secret(`${name}-auth`, {
      // Auto-named: a new password makes a new Secret, which rolls Valkey and the orchestrator together.
      metadata: { namespace: args.namespace, labels },
      type: 'Opaque',
      stringData: {
        [VALKEY_SECRET_KEYS.password]: password.result,
        [VALKEY_SECRET_KEYS.config]: pulumi.interpolate`requirepass ${password.result}\n`,
      },
    }, { parent: this });

    const service = new k8s.core.v1.Service(`${name}-service`, {
      metadata: { name: VALKEY_SERVICE, namespace: args.namespace, labels },
      spec: { selector: labels, ports: [{ name: 'valkey', port: VALKEY_PORT, targetPort: 'valkey' }] },
    }, { parent: this });

    new k8s.apps.v1.StatefulSet(`${name}-statefulset`, {
      metadata: { name: 'valkey', namespace: args.namespace, labels },
      spec: {
        serviceName: VALKEY_SERVICE,
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...systemPlacement,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            terminationGracePeriodSeconds: 30,
            securityContext: {
              runAsNonRoot: true, runAsUser: VALKEY_UID, runAsGroup: VALKEY_UID, fsGroup: VALKEY_UID,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [{
              name: 'valkey',
              image: s.image,
              // The password comes from a mounted file, never from the command line.
              command: ['valkey-server'],
              args: [
                `/etc/valkey/${VALKEY_SECRET_KEYS.config}`,
                '--appendonly', 'yes',
                '--appendfsync', 'everysec',
                '--dir', '/data',
                '--maxmemory', `${Math.floor(s.memoryMiB * 0.8)}mb`,
                // A queue must refuse writes rather than drop jobs.
                '--maxmemory-policy', 'noeviction',
              ],
              ports: [{ name: 'valkey', containerPort: VALKEY_PORT }],
              env: [{ name: 'VALKEY_PASSWORD', valueFrom: { secretKeyRef: { name: secret.metadata.name, key: VALKEY_SECRET_KEYS.password } } }],
              resources: {
                requests: { cpu: `${s.cpuMilli}m`, memory: `${s.memoryMiB}Mi` },
                limits: { memory: `${s.memoryMiB}Mi` },
              },
              startupProbe: { tcpSocket: { port: 'valkey' }, periodSeconds: 5, failureThreshold: 60 },
              // TCP only: PING answers LOADING while a large AOF replays, which is not a reason to restart.
              livenessProbe: { tcpSocket: { port: 'valkey' }, periodSeconds: 10, failureThreshold: 6 },
              readinessProbe: {
                exec: { command: ['sh', '-c', 'REDISCLI_AUTH="$VALKEY_PASSWORD" VALKEYCLI_AUTH="$VALKEY_PASSWORD" valkey-cli ping | grep -q PONG'] },
                periodSeconds: 5,
                timeoutSeconds: 3,
              },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'auth', mountPath: '/etc/valkey', readOnly: true },
              ],
            }],
            volumes: [{ name: 'auth', secret: { secretName: secret.metadata.name, defaultMode: 0o440 } }],
          },
        },
        volumeClaimTemplates: [{
          metadata: { name: 'data', labels },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: args.storageClassName,
            resources: { requests: { storage: `${s.storageGiB}Gi` } },
          },
        }],
      },
    }, { parent: this });

    // maxUnavailable 1 on one replica: a drain may evict it (the queue survives on the
    // volume and the orchestrator answers 503 for the seconds it is away, so GitHub
    // redelivers), and the budget still stops a second disruption while it is down.
    // minAvailable 1 would block every drain of its node.
    new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, {
      metadata: { name: 'valkey', namespace: args.namespace, labels },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    }, { parent: this });

    new k8s.networking.v1.NetworkPolicy(`${name}-ingress`, {
      metadata: { name: 'valkey-ingress', namespace: args.namespace, labels },
      spec: {
        podSelector: { matchLabels: labels },
        // Egress listed with no rule: Valkey opens no connection (strict mode denies it anyway).
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [{ podSelector: { matchLabels: args.clientLabels } }], ports: [{ protocol: 'TCP', port: VALKEY_PORT }] }],
        egress: [],
      },
    }, { parent: this });

    this.host = pulumi.interpolate`${service.metadata.name}.${args.namespace}.svc`;
    this.port = VALKEY_PORT;
    this.url = pulumi.interpolate`redis://${this.host}:${VALKEY_PORT}`;
    this.secretName = secret.metadata.name;
    this.registerOutputs({ url: this.url, host: this.host, port: this.port, secretName: this.secretName });
  }
}
