import type { Admission } from '../api/registry.ts';
import { namespaceAdmission, nodeAdmission, priorityClassAdmission, secretAdmission } from './core.ts';
import { podAdmission } from './pods.ts';
import { deploymentAdmission, jobAdmission } from './workloads.ts';

/** Admission per resource plural. */
export const coreAdmission: Record<string, Admission> = {
  pods: podAdmission,
  jobs: jobAdmission,
  deployments: deploymentAdmission,
  secrets: secretAdmission,
  namespaces: namespaceAdmission,
  priorityclasses: priorityClassAdmission,
  nodes: nodeAdmission,
};
