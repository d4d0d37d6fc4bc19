/**
 * Caps on label text. A runs-on label is workflow text anyone with push access writes;
 * without caps a 1,000,000-character label was echoed whole into the webhook reply, the
 * log line and the error (2 MB reply, 3 MB log line).
 */

/**
 * Longest runs-fleet label accepted. runs-fleet's own cap: the longest meaningful spec
 * (every key with a range and four families) is under 200 characters.
 */
export const MAX_LABEL_LENGTH = 256;
/** Longest echo of one label in a reply, log line, error or check run. */
export const MAX_ECHO_LENGTH = 120;
/** Labels echoed in a log line; the rest are counted. */
export const MAX_ECHOED_LABELS = 10;

/** `text` cut to `max` characters with a note of how much was cut. */
export function echo(text: string, max = MAX_ECHO_LENGTH): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A job's labels for a log line: at most MAX_ECHOED_LABELS, each echoed. */
export function echoLabels(labels: readonly string[]): string[] {
  const shown = labels.slice(0, MAX_ECHOED_LABELS).map((l) => echo(l));
  return labels.length > MAX_ECHOED_LABELS ? [...shown, `… ${labels.length - MAX_ECHOED_LABELS} more labels`] : shown;
}
