/**
 * The offline plan: `npm run plan -- --stack dev`. Evaluates the Pulumi program under
 * mocks with a stack's config (Pulumi.<stack>.yaml or --stack-file; `secure:` values replaced by fakes),
 * prints what `pulumi up` would create (type, name, key settings; NodePools with their
 * limits and warm pools; the orchestrator) and runs every policy of the pack in process
 * with the stack's policy config (policies/config.<stack>.json when present). Needs no
 * Pulumi CLI, no plugins and no cloud credentials, so CI can run it before
 * `pulumi preview --policy-pack policies`. Exit code: 0 fine (advisories allowed),
 * 1 mandatory violations, 2 bad arguments or an invalid stack config.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluatePolicies, loadPolicyPackConfig, sortViolations, type Evaluation } from '../policies/in-process.ts';
import { PACK, policies } from '../policies/policies.ts';
import { ConfigError } from '../runtime/util/errors.ts';
import { EXIT_USAGE, parseCommandLine, resolveStack, STACK_OPTIONS, STACK_USAGE, usageFailure, UsageError } from '../runtime/util/cli.ts';
import { loadStackFile, runProgram, type RecordedResource } from './mock-run.ts';
import { keySettings, nodePoolRows, type NodePoolRow } from './plan-summary.ts';
import { placeholderSecrets, type PlaceholderSecret } from './placeholder-secrets.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface PlanArgs {
  stack: string;
  /** Defaults to Pulumi.<stack>.yaml at the repository root. */
  stackFile?: string;
  /** A `--policy-pack-config` file; defaults to policies/config.<stack>.json when it exists; null for none. */
  policyConfig?: string | null;
  /** `runs-fleet:pools[0].max=60`: what-if overrides of the stack config. */
  set?: string[];
  json?: boolean;
}

export interface Plan {
  stack: string;
  stackFile: string;
  policyConfig: string | undefined;
  resources: RecordedResource[];
  nodePools: NodePoolRow[];
  evaluation: Evaluation;
  /** `secure:` values that are still the example's placeholders (not real ciphertext). */
  placeholderSecrets: PlaceholderSecret[];
}

export async function buildPlan(args: PlanArgs): Promise<Plan> {
  const stackFile = resolve(args.stackFile ?? resolve(ROOT, `Pulumi.${args.stack}.yaml`));
  if (!existsSync(stackFile)) throw new UsageError(`${stackFile} does not exist: pass --stack <name> for an existing Pulumi.<name>.yaml, or --stack-file <path>`);
  const file = loadStackFile(stackFile);
  let config = file.config;
  for (const assignment of args.set ?? []) config = applySet(config, assignment);
  const run = await runProgram(config, { stack: args.stack, secretKeys: file.secretKeys });

  const defaultPolicyConfig = resolve(ROOT, 'policies', `config.${args.stack}.json`);
  const policyConfig = args.policyConfig === null ? undefined : args.policyConfig ? resolve(args.policyConfig) : existsSync(defaultPolicyConfig) ? defaultPolicyConfig : undefined;
  const evaluation = await evaluatePolicies(
    policies,
    run.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs })),
    { packEnforcementLevel: PACK.enforcementLevel, ...(policyConfig ? { config: loadPolicyPackConfig(policyConfig) } : {}) },
  );
  return { stack: args.stack, stackFile, policyConfig, resources: run.resources, nodePools: nodePoolRows(run.resources), evaluation, placeholderSecrets: placeholderSecrets(stackFile) };
}

/** Applies `runs-fleet:pools[0].max=60` (the value is JSON when it parses as JSON, else a string). */
export function applySet(config: Record<string, unknown>, assignment: string): Record<string, unknown> {
  const m = /^([^:=\s]+:[^.[=\s]+)((?:\.[^.[=]+|\[\d+\])*)=(.*)$/s.exec(assignment);
  if (!m) throw new UsageError(`--set ${assignment}: expected <namespace:key>[.path|[index]]...=<value>, e.g. runs-fleet:pools[0].max=60`);
  const [, key, path, text] = m as unknown as [string, string, string, string];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  const steps = [...path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((s) => (s[2] !== undefined ? Number(s[2]) : s[1]!));
  const out = structuredClone(config);
  if (steps.length === 0) {
    out[key] = value;
    return out;
  }
  let node: any = (out[key] ??= typeof steps[0] === 'number' ? [] : {});
  for (const [i, step] of steps.entries()) {
    if (i === steps.length - 1) node[step] = value;
    else node = node[step] ??= typeof steps[i + 1] === 'number' ? [] : {};
  }
  return out;
}

export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  const rel = (p: string) => relative(process.cwd(), p) || p;
  lines.push(`runs-fleet offline plan: stack "${plan.stack}" from ${rel(plan.stackFile)}`);
  lines.push('Evaluated under mocks: nothing was sent to AWS or Kubernetes; secrets are fakes; ids, ARNs and hostnames are placeholders.', '');
  lines.push(...renderPlaceholderWarning(plan));

  const custom = plan.resources.filter((r) => r.custom).length;
  lines.push(`Resources \`pulumi up\` would create: ${plan.resources.length} (${custom} resources, ${plan.resources.length - custom} components)`);
  const sorted = [...plan.resources].sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
  lines.push(...table(['TYPE', 'NAME', 'KEY SETTINGS'], sorted.map((r) => [r.type, r.name, keySettings(r)])), '');

  lines.push('NodePools (one per runner class) and the warm pools that fill them');
  lines.push(...table(['CLASS', 'CPU/RUNNER', 'LIMITS.CPU', 'PLACEHOLDER CPU AT MAX', 'POOLS (MIN..MAX)'], plan.nodePools.map((n) => [
    n.className, String(n.cpu), n.limitCpu, String(n.placeholderCpuAtMax), n.pools.join('; ') || '-',
  ])), '');

  const orchestrator = plan.resources.find((r) => r.type === 'kubernetes:apps/v1:Deployment' && r.name.startsWith('orchestrator'));
  if (orchestrator) lines.push(`Orchestrator: ${keySettings(orchestrator)}`, '');

  lines.push(...renderVerdicts(plan));
  return `${lines.join('\n')}\n`;
}

function renderPlaceholderWarning(plan: Plan): string[] {
  const found = plan.placeholderSecrets;
  if (!found.length) return [];
  return [
    `WARNING: ${found.length} secret${found.length > 1 ? 's' : ''} in ${relative(process.cwd(), plan.stackFile) || plan.stackFile} ${found.length > 1 ? 'are still placeholders' : 'is still a placeholder'}, not Pulumi ciphertext: \`pulumi up\` cannot decrypt ${found.length > 1 ? 'them' : 'it'}. Set each first:`,
    ...found.map((p) => `  ${p.path}:  ${p.fix}`),
    '',
  ];
}

function renderVerdicts(plan: Plan): string[] {
  const { evaluation } = plan;
  const lines = [`Policy verdicts: pack "${PACK.name}", ${policies.length} policies, config ${plan.policyConfig ? relative(process.cwd(), plan.policyConfig) : 'none (policy defaults)'}`];
  const byPolicy = new Map<string, number>();
  for (const v of evaluation.violations) byPolicy.set(v.policy, (byPolicy.get(v.policy) ?? 0) + 1);
  lines.push(...table(['', 'POLICY', 'LEVEL', 'RESULT'], policies.map((p) => {
    const level = evaluation.levels.get(p.name) ?? '?';
    const found = byPolicy.get(p.name) ?? 0;
    const checked = evaluation.checked.get(p.name) ?? 0;
    if (level === 'disabled') return ['-', p.name, level, 'disabled'];
    if (found) return [level === 'advisory' ? '!' : 'x', p.name, level, `${found} violation${found > 1 ? 's' : ''}`];
    const what = 'validateStack' in p ? 'stack' : `${checked} resource${checked > 1 ? 's' : ''}`;
    return [checked ? 'ok' : '-', p.name, level, checked ? `passed (${what})` : 'not applicable'];
  })));
  const sorted = sortViolations(evaluation.violations);
  if (sorted.length) lines.push('', 'Violations:');
  for (const v of sorted) lines.push(`  [${v.level}] ${v.policy}${v.resource ? ` (${v.resource})` : ''}`, `      ${v.message}`);
  const mandatory = sorted.filter((v) => v.level === 'mandatory').length;
  lines.push('', mandatory
    ? `${mandatory} mandatory violation(s): \`pulumi preview --policy-pack policies\` would fail for this stack.`
    : `No mandatory violations${sorted.length ? ` (${sorted.length} advisory)` : ''}.`);
  return lines;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) => `  ${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

export function planJson(plan: Plan): string {
  return `${JSON.stringify({
    stack: plan.stack,
    stackFile: plan.stackFile,
    policyConfig: plan.policyConfig ?? null,
    resources: plan.resources.map((r) => ({ type: r.type, name: r.name, component: !r.custom, settings: keySettings(r) })),
    nodePools: plan.nodePools,
    policies: policies.map((p) => ({ name: p.name, level: plan.evaluation.levels.get(p.name), checked: plan.evaluation.checked.get(p.name) })),
    violations: sortViolations(plan.evaluation.violations),
    warnings: plan.placeholderSecrets.map((p) => ({ kind: 'placeholder-secret', path: p.path, fix: p.fix })),
  }, null, 2)}\n`;
}

const USAGE = `Usage: npm run plan [-- options]

Evaluates the Pulumi program offline, under mocks, with a stack's config (secure: values
replaced by fakes; no Pulumi CLI, plugins or cloud credentials), prints what \`pulumi up\`
would create — resources with their key settings, NodePools with their limits and warm
pools, the orchestrator — and runs every policy of the pack on it.

Options:
${STACK_USAGE}
  --policy-config PATH  a --policy-pack-config file (default policies/config.<stack>.json when it exists)
  --no-policy-config    use the policies' defaults
  --set KEY=VALUE       what-if override of the stack config, repeatable, e.g.
                        --set 'runs-fleet:pools[0].max=60' (VALUE is JSON when it parses, else a string)
  --json                machine-readable output
  -h, --help            show this help

Exit codes: 0 fine (advisories allowed), 1 mandatory policy violations, 2 bad arguments or
an invalid stack config.
`;

/** The command line as PlanArgs; throws UsageError. */
export function planArgs(values: { stack?: string; 'stack-file'?: string; 'policy-config'?: string; 'no-policy-config'?: boolean; set?: string[]; json?: boolean }): PlanArgs {
  if (values['policy-config'] !== undefined && values['no-policy-config']) throw new UsageError('--policy-config and --no-policy-config: pass one of them, not both');
  const { stack, file } = resolveStack(values);
  return {
    stack, stackFile: file, set: values.set ?? [], json: values.json ?? false,
    ...(values['no-policy-config'] ? { policyConfig: null } : values['policy-config'] !== undefined ? { policyConfig: values['policy-config'] } : {}),
  };
}

/** Runs the command; returns the exit code. */
export async function main(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const o = { write: out };
  const e = { write: err };
  const parsed = parseCommandLine(argv, {
    ...STACK_OPTIONS, 'policy-config': { type: 'string' }, 'no-policy-config': { type: 'boolean' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' },
  }, USAGE, o, e);
  if ('exit' in parsed) return parsed.exit;
  let args: PlanArgs | undefined;
  try {
    args = planArgs(parsed.values);
    const plan = await buildPlan(args);
    out(args.json ? planJson(plan) : renderPlan(plan));
    return plan.evaluation.violations.some((v) => v.level === 'mandatory') ? 1 : 0;
  } catch (x) {
    if (x instanceof UsageError) return usageFailure([x.message], USAGE, e).exit;
    if (x instanceof ConfigError) {
      err(`${relative(process.cwd(), args!.stackFile!) || args!.stackFile}: the stack config is invalid:\n${x.message}\n`);
      return EXIT_USAGE;
    }
    throw x;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const code = await main(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
  process.exitCode = code;
}
