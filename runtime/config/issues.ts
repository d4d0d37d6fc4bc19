import type { z } from 'zod';

/** `pools[1].max` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return prefix + (out || '(root)');
}

/** Every problem of a failed parse, one line each, named by path: `pools[1].max must be ≥ min (4 < 6)`. */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => `${formatPath(issue.path, prefix)} ${issue.message}`);
}
