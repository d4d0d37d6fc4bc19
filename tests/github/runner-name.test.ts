import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_RUNNER_NAME_LENGTH, runnerName, runnerNameNonce } from '../../runtime/github/runner-name.ts';

describe('github/runnerName', () => {
  it('is <prefix>-<jobId>-<attempt>-<nonce>', () => {
    assert.equal(runnerName('rf-4cpu-linux-arm64', 12877621891, 2, 'k3x9a'), 'rf-4cpu-linux-arm64-12877621891-2-k3x9a');
  });

  it('shortens only the prefix to fit 64 characters', () => {
    const name = runnerName('x'.repeat(80), 12877621891, 13, 'abcde');
    assert.equal(name.length, MAX_RUNNER_NAME_LENGTH);
    assert.ok(name.endsWith('-12877621891-13-abcde'));
  });

  it('replaces characters GitHub does not allow and drops an empty prefix', () => {
    assert.equal(runnerName('my pool/ärm', 1, 1, 'n0nce'), 'my-pool-rm-1-1-n0nce');
    assert.equal(runnerName('', 7, 1, 'abc'), '7-1-abc');
    assert.equal(runnerName('---', 7, 1, 'abc'), '7-1-abc');
  });

  it('rejects a job id or attempt that is not a positive integer', () => {
    assert.throws(() => runnerName('p', 'abc', 1, 'n'), RangeError);
    assert.throws(() => runnerName('p', 1, 0, 'n'), RangeError);
  });

  it('always fits, keeps job id, attempt and nonce, and uses only safe characters (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 120 }),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.integer({ min: 1, max: 999 }),
        fc.stringMatching(/^[a-z0-9]{1,8}$/),
        (prefix, jobId, attempt, nonce) => {
          const name = runnerName(prefix, jobId.toString(), attempt, nonce);
          return name.length <= MAX_RUNNER_NAME_LENGTH && name.endsWith(`${jobId}-${attempt}-${nonce}`) && /^[A-Za-z0-9._-]+$/.test(name) && !name.startsWith('-');
        },
      ),
    );
  });

  it('nonces are 5 base-36 characters and differ', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => runnerNameNonce()));
    assert.ok(nonces.size > 45);
    for (const n of nonces) assert.match(n, /^[0-9a-z]{5}$/);
  });
});
