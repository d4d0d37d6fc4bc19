import type { PolicyConfigSchema, ReportViolation, ResourceValidation, ResourceValidationArgs } from '@pulumi/policy';
import type { Json } from './types.ts';

/** The defaults a config schema declares, by property. */
export function schemaDefaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
    if (typeof prop === 'object' && prop !== null && 'default' in prop) out[key] = structuredClone(prop.default);
  }
  return out;
}

/**
 * A policy's settings: its schema defaults overlaid with what the pack config gives.
 * The engine fills in defaults itself; applying them here too keeps a policy correct
 * under any caller (the in-process runner, an older CLI).
 */
export function settings<T>(args: { getConfig<U extends object>(): U }, schema: PolicyConfigSchema | undefined): T {
  return { ...schemaDefaults(schema), ...args.getConfig<object>() } as T;
}

export type PropsValidation = (props: Json, args: ResourceValidationArgs, report: ReportViolation) => void;

/**
 * A resource validation for one type token. The engine reads `__pulumiType` and skips
 * other types without calling it (as `validateResourceOfType` does for classes).
 */
export function onType(type: string, validate: PropsValidation): ResourceValidation {
  return onTypes([type], validate, type);
}

/** A resource validation for several type tokens. */
export function onTypes(types: readonly string[], validate: PropsValidation, pulumiType?: string): ResourceValidation {
  const fn: ResourceValidation = (args, report) => {
    if (!types.includes(args.type)) return args.notApplicable(`applies to ${types.join(', ')} only`);
    return validate(args.props, args, report);
  };
  if (pulumiType) (fn as { __pulumiType?: string }).__pulumiType = pulumiType;
  return fn;
}

/** `NodePool "2cpu-linux-arm64" (karpenter-nodepool-2cpu-linux-arm64)`: the object and its Pulumi name. */
export function describe(kind: string, props: Json, resourceName: string): string {
  const name = props.metadata?.name;
  const ns = props.metadata?.namespace;
  const where = typeof ns === 'string' ? `${ns}/` : '';
  return typeof name === 'string' ? `${kind} "${where}${name}" (${resourceName})` : `${kind} ${resourceName}`;
}
