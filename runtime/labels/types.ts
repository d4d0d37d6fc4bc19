import type { Arch, CapacityType, RunnerClass } from '../config/document.ts';

/** Which form of label carried the request; `alias` when an operator alias matched instead. */
export type Marker = 'runs-fleet=' | 'runs-fleet' | 'runs-fleet/' | 'alias';

/**
 * A job's parsed `runs-on` request. Plain JSON (no undefined-valued keys, no
 * NaN/Infinity): it is stored in the Valkey queue and read back by another replica.
 */
export interface RunnerRequest {
  marker: Marker;
  /** The label that carried the request: the marker label, or the label an alias matched. */
  label: string;
  /** The job's runs-on labels, deduplicated (case-insensitively, as GitHub compares them), in order. */
  labels: string[];
  /** Run id from `runs-fleet=<run-id>/…` when present; the payload's run_id stays authoritative. */
  runId?: string;
  /** The runs-on label an operator alias matched (marker `alias` only). */
  alias?: string;
  runner?: string;
  cpu?: { min: number; max: number };
  /** GiB; without `max` the request has no upper bound (no 2× auto-range, as in the original). */
  ramGiB?: { min: number; max?: number };
  arch?: Arch;
  families?: string[];
  gen?: number;
  pool?: string;
  /** False only for the literal `spot=false`. */
  spot: boolean;
  diskGiB?: number;
  /** Ignored segments and other non-fatal findings, for the job's log line. */
  warnings: string[];
}

export interface NodeRequirement {
  key: string;
  operator: 'In' | 'Gt' | 'Lt';
  values: string[];
}

/** A request bound to one runner class, with the pod sized inside the class's bounds. */
export interface ResolvedRunner {
  className: string;
  class: RunnerClass;
  /** Set only when the job named a configured pool (its class is `className`). */
  pool?: string;
  /** vCPUs the pod requests: ≤ class.cpu, within the requested range. */
  cpu: number;
  /** GiB of memory the pod requests: ≤ class.memoryGiB, within the requested range. */
  memoryGiB: number;
  /** GiB of work volume the job may use: the requested disk, else the class's. */
  diskGiB: number;
  capacityTypes: CapacityType[];
  /** Extra Karpenter node requirements (families, generation, narrower capacity type). */
  nodeRequirements: NodeRequirement[];
  /** Labels the JIT runner registers with: the job's own, so GitHub matches this job to it. */
  jitLabels: string[];
  warnings: string[];
}
