import { readFileSync } from 'node:fs';
import {
  unknownCheckingProxy, UnknownValueError, type EnforcementLevel, type Policies, type Policy, type PolicyConfigSchema,
  type PolicyPackConfig, type PolicyResource, type PolicyResourceOptions, type ReportViolation, type ResourceValidationArgs,
  type ResourceValidationPolicy, type StackValidationArgs, type StackValidationPolicy,
} from '@pulumi/policy';
import { schemaDefaults } from './lib/define.ts';

/**
 * Runs policies in process against recorded resources, the way the Pulumi engine and
 * `@pulumi/policy`'s analyzer server do (pulumi-policy server.ts): per-policy
 * enforcement levels from the pack config (a policy name or `all` → a level or
 * `{enforcementLevel, ...properties}`), `getConfig()` with the schema's defaults, props
 * behind `unknownCheckingProxy` (an unknown read turns the check into an advisory "can't
 * run during preview"), `notApplicable`, and validations skipped by `__pulumiType`.
 * Used by the policy tests and by the offline plan (infra/plan.ts); needs no CLI.
 */

export interface ResourceUnderTest {
  type: string;
  /** The Pulumi (logical) name. */
  name: string;
  urn: string;
  /** Inputs for resource policies; stack policies see them as the outputs (a mock echoes inputs). */
  props: Record<string, any>;
}

export type ReportedLevel = 'advisory' | 'mandatory';

export interface Violation {
  policy: string;
  level: ReportedLevel;
  message: string;
  /** The resource the violation is about (resource policies: always; stack policies: when they name one). */
  urn?: string;
  /** Its Pulumi name, when the URN is one of the resources. */
  resource?: string;
}

export interface Evaluation {
  violations: Violation[];
  /** How many resources each resource policy checked (1 for a stack policy that applied); 0 when it never applied. */
  checked: Map<string, number>;
  /** The level each policy ran at (`disabled` ones did not run). */
  levels: Map<string, EnforcementLevel>;
}

export interface EvaluateOptions {
  /** A pack config, as in a `--policy-pack-config` file. */
  config?: PolicyPackConfig;
  /** The pack's default level (PolicyPackArgs.enforcementLevel). */
  packEnforcementLevel?: EnforcementLevel;
  stackTags?: Record<string, string>;
}

const LEVELS: readonly EnforcementLevel[] = ['advisory', 'mandatory', 'remediate', 'disabled'];

class NotApplicable extends Error {}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason ?? 'not applicable');
};

export interface ResolvedPolicyConfig {
  level: EnforcementLevel;
  properties: Record<string, unknown>;
}

/**
 * The level and properties each policy runs with. Throws on what the engine would
 * reject (an unknown level, a property of the wrong type) and, stricter than the
 * engine, on unknown policy names and properties, so a typo in a config file is an
 * error rather than a silently ignored setting.
 */
export function resolvePackConfig(policies: Policies, config: PolicyPackConfig = {}, packLevel: EnforcementLevel = 'advisory'): Map<string, ResolvedPolicyConfig> {
  const byName = new Map<string, Policy>(policies.map((p) => [p.name, p]));
  const problems: string[] = [];
  const levelOf = (key: string, value: unknown): EnforcementLevel | undefined => {
    if (value === undefined) return undefined;
    if (typeof value === 'string' && (LEVELS as readonly string[]).includes(value)) return value as EnforcementLevel;
    problems.push(`${key}: enforcement level ${JSON.stringify(value)} is not one of ${LEVELS.join(', ')}`);
    return undefined;
  };
  const split = (key: string, entry: unknown) => {
    if (typeof entry === 'string') return { level: levelOf(key, entry), properties: {} };
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${key}: must be an enforcement level or an object, not ${JSON.stringify(entry)}`);
      return { level: undefined, properties: {} };
    }
    const { enforcementLevel, ...properties } = entry as Record<string, unknown>;
    return { level: levelOf(key, enforcementLevel), properties };
  };

  for (const key of Object.keys(config)) {
    if (key !== 'all' && !byName.has(key)) problems.push(`${key}: no such policy in the pack (known: ${[...byName.keys()].join(', ')})`);
  }
  const all = config.all === undefined ? undefined : split('all', config.all);
  if (all && Object.keys(all.properties).length) problems.push('all: may only set an enforcement level');

  const resolved = new Map<string, ResolvedPolicyConfig>();
  for (const policy of policies) {
    const own = config[policy.name] === undefined ? undefined : split(policy.name, config[policy.name]);
    problems.push(...propertyProblems(policy.name, policy.configSchema, own?.properties ?? {}));
    resolved.set(policy.name, {
      level: own?.level ?? all?.level ?? policy.enforcementLevel ?? packLevel,
      properties: { ...schemaDefaults(policy.configSchema), ...(own?.properties ?? {}) },
    });
  }
  if (problems.length) throw new Error(`invalid policy pack config:\n  ${problems.join('\n  ')}`);
  return resolved;
}

function propertyProblems(policy: string, schema: PolicyConfigSchema | undefined, given: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const props = schema?.properties ?? {};
  for (const [key, value] of Object.entries(given)) {
    const prop = props[key];
    if (prop === undefined) {
      problems.push(`${policy}.${key}: not a setting of this policy (settings: ${Object.keys(props).join(', ') || 'none'})`);
      continue;
    }
    if (typeof prop === 'boolean') continue;
    const types = prop.type === undefined ? [] : [prop.type].flat();
    if (types.length && !types.some((t) => matchesType(value, t)))
      problems.push(`${policy}.${key}: must be ${types.join(' or ')}, not ${JSON.stringify(value)}`);
    if (typeof value === 'number' && prop.minimum !== undefined && value < prop.minimum) problems.push(`${policy}.${key}: must be ≥ ${prop.minimum}`);
    if (typeof value === 'number' && prop.maximum !== undefined && value > prop.maximum) problems.push(`${policy}.${key}: must be ≤ ${prop.maximum}`);
  }
  for (const key of schema?.required ?? []) {
    if (!(key in given) && !('default' in (props[key] as object))) problems.push(`${policy}.${key}: is required`);
  }
  return problems;
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'array': return Array.isArray(value);
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'null': return value === null;
    default: return typeof value === type;
  }
}

/** Reads a `--policy-pack-config` file. */
export function loadPolicyPackConfig(file: string): PolicyPackConfig {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file}: a policy pack config must be a JSON object`);
  return parsed as PolicyPackConfig;
}

const isResourcePolicy = (p: Policy): p is ResourceValidationPolicy => 'validateResource' in p;
const isStackPolicy = (p: Policy): p is StackValidationPolicy => 'validateStack' in p;

const NO_OPTS: PolicyResourceOptions = {
  protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

/** Runs every policy over `resources`: each resource policy per resource, then each stack policy once. */
export async function evaluatePolicies(policies: Policies, resources: readonly ResourceUnderTest[], options: EvaluateOptions = {}): Promise<Evaluation> {
  const resolved = resolvePackConfig(policies, options.config, options.packEnforcementLevel);
  const stackTags: ReadonlyMap<string, string> = new Map(Object.entries(options.stackTags ?? {}));
  const nameOf = new Map(resources.map((r) => [r.urn, r.name]));
  const result: Evaluation = { violations: [], checked: new Map(), levels: new Map() };

  for (const policy of policies) {
    const { level: configured, properties } = resolved.get(policy.name)!;
    result.levels.set(policy.name, configured);
    result.checked.set(policy.name, 0);
    if (configured === 'disabled') continue;
    // As in the analyzer: a violation left after remediation is mandatory.
    const level: ReportedLevel = configured === 'advisory' ? 'advisory' : 'mandatory';
    const getConfig = <T extends object>() => structuredClone(properties) as T;
    const push = (message: string, urn: string | undefined, at: ReportedLevel = level) =>
      result.violations.push({ policy: policy.name, level: at, message, ...(urn ? { urn } : {}), ...(urn && nameOf.has(urn) ? { resource: nameOf.get(urn)! } : {}) });
    const count = () => result.checked.set(policy.name, result.checked.get(policy.name)! + 1);

    if (isResourcePolicy(policy) && policy.validateResource) {
      const validations = [policy.validateResource].flat();
      for (const r of resources) {
        let applied = false;
        for (const validate of validations) {
          const only = (validate as { __pulumiType?: string }).__pulumiType;
          if (only && only !== r.type) continue;
          // A copy per call: no policy can change what the next one sees. (Freezing instead
          // would stop unknownCheckingProxy at the first level: a proxy must return a frozen
          // property's value as it is.)
          const props = unknownCheckingProxy(structuredClone(r.props));
          const args: ResourceValidationArgs = {
            type: r.type, props, urn: r.urn, name: r.name, opts: NO_OPTS, stackTags, getConfig, notApplicable,
            isType: (cls) => isTypeOf(r.type, cls),
            asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as ResourceValidationArgs['asType'],
          };
          const report: ReportViolation = (message) => push(message, r.urn);
          applied = (await attempt(() => validate(args, report), (m) => push(m, r.urn, 'advisory'), policy.name)) || applied;
        }
        if (applied) count();
      }
    }
    if (isStackPolicy(policy)) {
      const policyResources = resources.map((r): PolicyResource => {
        const props = unknownCheckingProxy(structuredClone(r.props));
        return {
          type: r.type, props, urn: r.urn, name: r.name, opts: NO_OPTS, dependencies: [], propertyDependencies: {},
          isType: (cls) => isTypeOf(r.type, cls),
          asType: ((cls: unknown) => (isTypeOf(r.type, cls) ? props : undefined)) as PolicyResource['asType'],
        };
      });
      const args: StackValidationArgs = { resources: policyResources, stackTags, getConfig, notApplicable };
      const report: ReportViolation = (message, urn) => push(message, urn);
      if (await attempt(() => policy.validateStack(args, report), (m) => push(m, undefined, 'advisory'), policy.name)) count();
    }
  }
  return result;
}

/** Runs one validation; false when it declared itself not applicable. */
async function attempt(run: () => unknown, advisory: (message: string) => void, policy: string): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (err) {
    if (err instanceof NotApplicable) return false;
    if (err instanceof UnknownValueError) {
      advisory(`can't run policy '${policy}' during preview: ${(err as Error).message}`);
      return true;
    }
    throw new Error(`policy ${policy} threw: ${(err as Error).message}`, { cause: err });
  }
}

function isTypeOf(type: string, cls: unknown): boolean {
  const c = cls as { __pulumiType?: unknown; isInstance?: (o: unknown) => boolean };
  if (typeof c?.__pulumiType === 'string' && c.__pulumiType) return c.__pulumiType === type;
  return typeof c?.isInstance === 'function' && c.isInstance({ __pulumiType: type }) === true;
}

/** Mandatory violations first, then by policy. */
export function sortViolations(violations: readonly Violation[]): Violation[] {
  const rank = (v: Violation) => (v.level === 'mandatory' ? 0 : 1);
  return [...violations].sort((a, b) => rank(a) - rank(b) || a.policy.localeCompare(b.policy));
}
