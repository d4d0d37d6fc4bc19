import { randomBytes } from 'node:crypto';

/** GitHub's limit on a runner name. */
export const MAX_RUNNER_NAME_LENGTH = 64;

const UNSAFE = /[^A-Za-z0-9._-]+/g;

/**
 * A runner name unique per job and attempt: `<prefix>-<jobId>-<attempt>-<nonce>`.
 * The nonce makes a retried generate-jitconfig (after a lost response or a 409)
 * register a fresh name. Only the prefix is shortened to fit 64 characters, so the
 * job id, attempt and nonce always survive.
 */
export function runnerName(prefix: string, jobId: number | string, runAttempt: number, nonce: string): string {
  const cleanNonce = nonce.replace(UNSAFE, '');
  const tail = `${jobId}-${runAttempt}${cleanNonce ? `-${cleanNonce}` : ''}`;
  if (!/^\d+$/.test(String(jobId)) || !Number.isInteger(runAttempt) || runAttempt < 1) {
    throw new RangeError(`runnerName: job id must be digits and run attempt a positive integer (got ${jobId}, ${runAttempt})`);
  }
  if (tail.length > MAX_RUNNER_NAME_LENGTH) {
    throw new RangeError(`runnerName: job id, attempt and nonce alone exceed ${MAX_RUNNER_NAME_LENGTH} characters`);
  }
  const room = MAX_RUNNER_NAME_LENGTH - tail.length - 1;
  const head = prefix.replace(UNSAFE, '-').slice(0, Math.max(0, room)).replace(/[-._]+$/, '').replace(/^[-._]+/, '');
  return head ? `${head}-${tail}` : tail;
}

/** A short random suffix for runnerName (5 base-36 characters). */
export function runnerNameNonce(): string {
  return (randomBytes(4).readUInt32BE(0) % 36 ** 5).toString(36).padStart(5, '0');
}
