import type * as k8s from '@kubernetes/client-node';

export function jobBody(name: string, spec: Partial<k8s.V1JobSpec> = {}, podSpec: Partial<k8s.V1PodSpec> = {}, annotations?: Record<string, string>): k8s.V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: annotations ? { annotations } : {},
        spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], ...podSpec },
      },
      ...spec,
    },
  };
}

export function deploymentBody(name: string, replicas: number, image = 'registry.k8s.io/pause:3.10'): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image, resources: { requests: { cpu: '100m' } } }] } },
    },
  };
}
