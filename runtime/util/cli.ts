import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

/** Exit codes every runs-fleet command shares: 0 done, 1 failed, 2 bad arguments or configuration. */
export const EXIT_USAGE = 2;

type Values<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

/**
 * The command-line front of every runs-fleet command: strict flags, `--help`/`-h` prints the
 * usage (exit 0), an unknown or malformed flag prints the problem and the usage (exit 2).
 * Returns the parsed values, or the exit code when the command should stop here.
 */
export function parseCommandLine<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  usage: string,
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): { values: Values<O> } | { exit: number } {
  let values: Values<O> & { help?: boolean };
  try {
    values = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as Values<O>;
  } catch (e) {
    err.write(`${(e as Error).message}\n\n${usage}`);
    return { exit: EXIT_USAGE };
  }
  if (values.help) {
    out.write(usage);
    return { exit: 0 };
  }
  return { values };
}
