import type { PolicyConfigSchema, ResourceValidationPolicy, Severity } from '@pulumi/policy';
import { DIND_CONTAINER } from '../runtime/k8s/labels.ts';
import { describe, onType, settings } from './lib/define.ts';
import { documentJson, isConfigDocumentMap, podSubjects, type PodSubject } from './lib/config-document.ts';
import {
  hostAccessProblems, imageProblems, privilegedProblems, resourceProblems, serviceAccountTokenProblems,
} from './lib/pod-spec.ts';
import { TYPE, type Json } from './lib/types.ts';

/**
 * Runner pods run untrusted workflow code; placeholders sit on the same nodes. Neither is
 * a Pulumi resource: the orchestrator creates them from the config document. So these
 * rules check every pod the document will produce (see lib/config-document.ts).
 */

interface PodRule {
  name: string;
  description: string;
  severity: Severity;
  configSchema?: PolicyConfigSchema;
  check(spec: Json, config: Record<string, any>): string[];
  fix(subject: PodSubject, config: Record<string, any>): string;
}

function podPolicy(rule: PodRule): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: 'mandatory',
    severity: rule.severity,
    ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
    validateResource: onType(TYPE.configMap, (props, args, report) => {
      if (!isConfigDocumentMap(props)) return args.notApplicable('not the runs-fleet config document');
      const label = describe('ConfigMap', props, args.name);
      const read = documentJson(props);
      if (!read.ok) {
        report(`${label}: cannot check runner and placeholder pods: ${read.problem}. Fix: let the program render the document (infra/config-document.ts).`);
        return;
      }
      const config = settings<Record<string, any>>(args, rule.configSchema);
      for (const subject of podSubjects(read.raw)) {
        const problems = rule.check(subject.spec, config);
        if (problems.length) report(`${label}: ${subject.what}: ${problems.join('; ')}. Fix: ${rule.fix(subject, config)}`);
      }
    }),
  };
}

export const runnerPodsNoHostAccess = podPolicy({
  name: 'runner-pods-no-host-access',
  description: 'Runner and placeholder pods use no hostPath volume, host network, host PID or host IPC namespace.',
  severity: 'critical',
  check: (spec) => hostAccessProblems(spec),
  fix: (s) => `remove them from the pod spec (built from ${s.source}); jobs needing host access do not belong on shared runners.`,
});

export const runnerPodsNoServiceAccountToken = podPolicy({
  name: 'runner-pods-no-service-account-token',
  description: 'Runner and placeholder pods mount no Kubernetes service-account token.',
  severity: 'critical',
  check: (spec) => serviceAccountTokenProblems(spec),
  fix: (s) => `set automountServiceAccountToken: false in the pod spec (built from ${s.source}).`,
});

const privilegedSchema: PolicyConfigSchema = {
  properties: {
    privilegedContainers: {
      type: 'array', items: { type: 'string' }, default: [DIND_CONTAINER],
      description: 'Names of the containers that may run privileged (the Docker-in-Docker sidecar).',
    },
  },
};

export const runnerPodsPrivilegedOnlyDind = podPolicy({
  name: 'runner-pods-privileged-only-dind',
  description: 'Only the Docker-in-Docker sidecar of a runner pod runs privileged.',
  severity: 'critical',
  configSchema: privilegedSchema,
  check: (spec, c) => privilegedProblems(spec, c.privilegedContainers),
  fix: (s, c) => `drop securityContext.privileged from those containers (built from ${s.source}); only ${(c.privilegedContainers as string[]).map((n) => `"${n}"`).join(', ') || 'none'} may be privileged (privilegedContainers in the policy pack config).`,
});

export const runnerPodsResources = podPolicy({
  name: 'runner-pods-resources',
  description: 'Every container of runner and placeholder pods sets CPU and memory requests and limits.',
  severity: 'medium',
  check: (spec) => resourceProblems(spec, { requests: true, cpuLimit: true }),
  fix: (s) => `set resources.requests and resources.limits (cpu, memory) on every container (built from ${s.source}); the class's cpu and memoryGiB size them.`,
});

export const runnerPodsPinnedImages = podPolicy({
  name: 'runner-pods-pinned-images',
  description: 'Runner and placeholder pods use images pinned to a tag or digest other than :latest.',
  severity: 'medium',
  check: (spec) => imageProblems(spec),
  fix: () => 'pin runs-fleet:runner.image, .dindImage and .pauseImage to a release tag or a digest.',
});

export const runnerPodPolicies = [
  runnerPodsNoHostAccess, runnerPodsNoServiceAccountToken, runnerPodsPrivilegedOnlyDind, runnerPodsResources, runnerPodsPinnedImages,
];
