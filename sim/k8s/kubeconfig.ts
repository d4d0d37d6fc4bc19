import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export const SIM_CONTEXT = 'runs-fleet-sim';

/**
 * A kubeconfig for the sim's plain-HTTP server that both client-node and kubectl accept.
 * client-node 2.0.1 refuses an http:// server unless the cluster says
 * insecure-skip-tls-verify: true ("HTTP protocol is not allowed when skipTLSVerify is not set
 * or false"); kubectl ignores TLS settings for http://. The token is accepted and ignored.
 */
export function kubeconfigYaml(server: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: SIM_CONTEXT, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: SIM_CONTEXT, user: { token: 'runs-fleet-sim' } }],
    contexts: [{ name: SIM_CONTEXT, context: { cluster: SIM_CONTEXT, user: SIM_CONTEXT, namespace } }],
    'current-context': SIM_CONTEXT,
    preferences: {},
  });
}

export function makeKubeConfig(yaml: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  return kc;
}
