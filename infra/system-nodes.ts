import { INFRA } from '../runtime/k8s/labels.ts';

/**
 * The small managed node group carries `CriticalAddonsOnly=true:NoSchedule` so that only
 * pods that ask for it land there: Karpenter, CoreDNS and the EBS CSI controller tolerate
 * it by default; the orchestrator and Valkey get these tolerations and the node selector.
 * Runner nodes carry RUNNER_TAINT instead, so system pods never run on them.
 */
export const SYSTEM_TAINT = { key: 'CriticalAddonsOnly', value: 'true' } as const;
export const SYSTEM_NODE_LABELS = { [INFRA.nodeRoleLabel]: 'system' } as const;

export const systemPlacement = {
  nodeSelector: { ...SYSTEM_NODE_LABELS },
  tolerations: [{ key: SYSTEM_TAINT.key, operator: 'Exists', effect: 'NoSchedule' }],
};
