import { fileURLToPath } from 'node:url';
import type { Policies, Policy, PolicyPackConfig } from '@pulumi/policy';
import { evaluatePolicies, loadPolicyPackConfig, type Evaluation, type ResourceUnderTest } from '../../policies/in-process.ts';
import { PACK, policies } from '../../policies/policies.ts';
import { loadStackFile, runProgram } from '../infra/harness.ts';

export const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

export const SHIPPED_STACKS = ['dev', 'prod-existing-vpc'] as const;

/** The program's resources for a shipped stack file, as the policies see them. */
export async function stackResources(stack: string, edit?: (config: Record<string, unknown>) => Record<string, unknown>): Promise<ResourceUnderTest[]> {
  const file = loadStackFile(root(`Pulumi.${stack}.yaml`));
  const run = await runProgram(edit ? edit(file.config) : file.config, { stack, secretKeys: file.secretKeys });
  return run.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
}

export function shippedPolicyConfig(stack: string): PolicyPackConfig {
  return loadPolicyPackConfig(root(`policies/config.${stack}.json`));
}

export function policyNamed(name: string): Policy {
  const found = policies.find((p) => p.name === name);
  if (!found) throw new Error(`no policy ${name}`);
  return found;
}

export function evaluate(resources: readonly ResourceUnderTest[], only?: Policies, config?: PolicyPackConfig): Promise<Evaluation> {
  return evaluatePolicies(only ?? policies, resources, { packEnforcementLevel: PACK.enforcementLevel, ...(config ? { config } : {}) });
}

/** A deep copy of `resources` with `edit` applied to the named resource's props. */
export function withEdit(resources: readonly ResourceUnderTest[], name: string, edit: (props: Record<string, any>) => void): ResourceUnderTest[] {
  const copy = structuredClone(resources) as ResourceUnderTest[];
  const target = copy.find((r) => r.name === name);
  if (!target) throw new Error(`no resource named ${name}; have ${copy.map((r) => r.name).join(', ')}`);
  edit(target.props);
  return copy;
}

export function without(resources: readonly ResourceUnderTest[], name: string): ResourceUnderTest[] {
  if (!resources.some((r) => r.name === name)) throw new Error(`no resource named ${name}`);
  return structuredClone(resources.filter((r) => r.name !== name)) as ResourceUnderTest[];
}

/** Edits the config document (ConfigMap `platform-config`, key config.json) as parsed JSON. */
export function withDocument(resources: readonly ResourceUnderTest[], edit: (doc: any) => void): ResourceUnderTest[] {
  return withEdit(resources, 'platform-config', (props) => {
    const doc = JSON.parse(props.data['config.json']);
    edit(doc);
    props.data['config.json'] = JSON.stringify(doc);
  });
}
