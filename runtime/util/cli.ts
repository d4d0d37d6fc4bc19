import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Exit codes every runs-fleet command shares: 0 done, 1 failed, 2 bad arguments or configuration. */
export const EXIT_USAGE = 2;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

interface Writer { write(s: string): unknown }

/**
 * The command-line front of every runs-fleet command: strict flags, `--help`/`-h` prints the
 * usage (exit 0), an unknown or malformed flag prints the problem and the usage (exit 2).
 * Returns the parsed values, or the exit code when the command should stop here.
 */
export function parseCommandLine<const O extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: O,
  usage: string,
  out: Writer = process.stdout,
  err: Writer = process.stderr,
): { values: Values<O> } | { exit: number } {
  let values: Values<O> & { help?: boolean };
  try {
    values = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (e) {
    return usageFailure([(e as Error).message], usage, err);
  }
  if (values.help) {
    out.write(usage);
    return { exit: 0 };
  }
  return { values };
}

/** Prints the problems, then the usage; the command exits 2 with what this returns. */
export function usageFailure(problems: readonly string[], usage: string, err: Writer = process.stderr): { exit: number } {
  err.write(`${problems.join('\n')}\n\n${usage}`);
  return { exit: EXIT_USAGE };
}

/** A bad command-line argument: the message names the flag, the value and what it takes. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * `--stack NAME` and `--stack-file PATH`, the same in every command (start, demo, plan,
 * what-if): spread into parseCommandLine's options, list STACK_USAGE in the help, and
 * turn the values into a stack with resolveStack.
 */
export const STACK_OPTIONS = {
  stack: { type: 'string', short: 's' },
  'stack-file': { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const STACK_USAGE = `  -s, --stack NAME    the Pulumi stack: its config is Pulumi.NAME.yaml at the repository root (default dev)
  --stack-file PATH   read the stack config from PATH instead (the stack is named by --stack, else by
                      the file name Pulumi.<name>.yaml, else "local")`;

export interface StackChoice {
  /** The stack name (cluster name default, policies/config.<name>.json). */
  stack: string;
  /** Absolute path of the stack file. */
  file: string;
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * The stack the flags name; throws UsageError naming the flag, the value and the fix (a name
 * that looks like a path, an invalid name, a file that does not exist). `root` is where
 * Pulumi.<name>.yaml files live (the repository root unless a test says otherwise).
 */
export function resolveStack(values: { stack?: string; 'stack-file'?: string }, root = REPO_ROOT, fallback = 'dev'): StackChoice {
  const name = values.stack;
  if (name !== undefined && /[/\\]|\.ya?ml$/.test(name))
    throw new UsageError(`--stack ${name}: --stack takes a stack name such as dev; for a file use --stack-file ${name}`);
  if (name !== undefined && (!STACK_NAME.test(name) || name === '.' || name === '..'))
    throw new UsageError(`--stack ${name}: not a stack name (letters, digits, ".", "_" and "-"), e.g. --stack dev`);
  const pathFlag = values['stack-file'];
  if (pathFlag !== undefined) {
    const file = resolve(pathFlag);
    if (!existsSync(file)) throw new UsageError(`--stack-file ${pathFlag}: ${file} does not exist; pass the path of a Pulumi stack file such as Pulumi.dev.yaml`);
    const fromName = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file))?.[1];
    return { stack: name ?? (fromName && STACK_NAME.test(fromName) ? fromName : 'local'), file };
  }
  const stack = name ?? fallback;
  const file = resolve(root, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) throw new UsageError(`--stack ${stack}: ${file} does not exist; name a stack with a Pulumi.<name>.yaml at the repository root, or pass --stack-file PATH`);
  return { stack, file };
}
