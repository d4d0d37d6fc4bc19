import assert from 'node:assert/strict';
import { RunnerNameConflictError } from '../../runtime/github/errors.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';
import { capturingLogger, Harness, JumpingClock } from './support.ts';

describe('github: secrets stay out of logs, errors and metrics', () => {
  let double: GitHubDouble;
  let h: Harness;
  let clock: JumpingClock;

  beforeEach(async () => {
    clock = new JumpingClock();
    double = await startGitHubDouble({ clock });
    h = new Harness();
  });
  afterEach(async () => {
    await h.close();
    await double.stop();
  });

  it('a run with retries, rate-limit pauses, a revoked token and failures logs no token, JWT, key or JIT config', async () => {
    const { logger, text } = capturingLogger();
    const client = await h.client(double, { clock, logger, limiterOptions: { logger } });
    const jit = (name: string) => ({ scope: 'org' as const, owner: 'acme', installationId: 1, name, runnerGroupId: 1, labels: ['x'] });

    const configs: string[] = [];
    double.inject(ROUTES.orgJitConfig, { kind: 'status', status: 500 });
    double.inject(ROUTES.orgJitConfig, { kind: 'secondary', retryAfterS: 10 });
    configs.push((await client.generateJitConfig(jit('s-1'))).encodedJitConfig);
    double.revokeTokens();
    configs.push((await client.generateJitConfig(jit('s-2'))).encodedJitConfig);
    const errors: string[] = [];
    for (const attempt of [
      () => client.generateJitConfig(jit('s-1')), // 409
      () => client.generateJitConfig({ ...jit('s-4'), runnerGroupId: 77 }), // 404
      () => client.getJob({ owner: 'acme', repo: 'web', jobId: 1, installationId: 1 }), // 404
    ]) {
      try {
        const result = await attempt();
        if ('encodedJitConfig' in result) configs.push(result.encodedJitConfig);
      } catch (err) {
        errors.push(`${(err as Error).name}: ${(err as Error).message} ${String((err as Error).cause ?? '')}`);
        if ((err as Error).message.includes('already has a runner')) assert.ok(err instanceof RunnerNameConflictError);
      }
    }
    const log = text();
    assert.ok(log.includes('retrying') && log.includes('secondary rate limit'), 'the run was logged (the test can see leaks)');
    assert.ok(errors.length >= 3);

    const secrets = [...double.issuedTokens(), ...configs];
    assert.ok(double.issuedTokens().length >= 2, 'a revoked token was replaced');
    const keyBody = double.privateKeyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    const metrics = await h.registry.metrics();
    for (const [where, output] of [['log', log], ['errors', errors.join('\n')], ['metrics', metrics]] as const) {
      for (const secret of [...secrets, ...keyBody]) assert.ok(!output.includes(secret), `a secret appeared in the ${where}`);
      assert.doesNotMatch(output, /ghs_[A-Za-z0-9_-]{10}/, `an installation token in the ${where}`);
      assert.doesNotMatch(output, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/, `a JWT in the ${where}`);
      assert.doesNotMatch(output, /PRIVATE KEY/, `a private key in the ${where}`);
    }
  });

  it('logging a JIT config result by mistake is redacted by the shared logger', () => {
    const { logger, text } = capturingLogger();
    logger.info({ jit: { runnerId: 1, runnerName: 'r', encodedJitConfig: 'ZXhhbXBsZS1qaXQ=' } }, 'created');
    logger.info({ encodedJitConfig: 'ZXhhbXBsZS1qaXQ=' }, 'created');
    assert.ok(!text().includes('ZXhhbXBsZS1qaXQ='));
    assert.match(text(), /\[redacted\]/);
  });
});
