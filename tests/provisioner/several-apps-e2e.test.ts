import assert from 'node:assert/strict';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { ROUTES } from '../../sim/github/double.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const FAST = { blockMs: 100, reclaimIdleMs: 300, reclaimEveryMs: 100 };

/**
 * The whole path with several Apps: the orchestrator reads them from the apps file (as the
 * deployment's apps.json), the double plays them, and runners for one org's jobs are
 * registered through both Apps installed there — never through the App that is not.
 */
describe('provisioning end to end with several GitHub Apps', function () {
  this.timeout(30_000);
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
  });

  it('provisions every job of an org, the JIT calls spread over the two Apps installed on it', async () => {
    s = await startLocalStack({
      doc: sampleDocument(), valkeyUrl: testValkeyUrl(), queuePrefix: uniquePrefix('apps'),
      sim: { timings: { provisioningMs: 200, imagePullMs: 10, containerStartMs: 10, readinessMs: 10, batchIdleMs: 20, batchMaxMs: 100 } },
      github: {
        apps: [
          { appId: 301, installations: [{ id: 3011, account: 'octo-org' }] },
          { appId: 302, installations: [{ id: 3021, account: 'octo-org' }] },
          { appId: 303, installations: [{ id: 3031, account: 'elsewhere' }] },
        ],
      },
      orchestrator: { consumer: FAST },
    });
    const n = 20;
    for (let i = 0; i < n; i++) s.github.queueJob({ owner: 'octo-org', repo: `svc-${i % 3}`, labels: [`runs-fleet=${500 + i}/runner=4cpu-linux-arm64`] });
    await eventually(() => s!.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }).length, (k) => k === n, 20_000);
    const jit = (app: number) => s!.github.stats().byApp[String(app)]?.calls[ROUTES.orgJitConfig] ?? 0;
    assert.equal(jit(301) + jit(302), n, 'one JIT config per job');
    assert.ok(jit(301) > 0 && jit(302) > 0, `both Apps on octo-org made JIT calls: ${jit(301)} / ${jit(302)}`);
    assert.equal(jit(303), 0, 'App 303 is not installed on octo-org');
    assert.equal(s.github.stats().byApp['303']?.calls[ROUTES.createAccessToken] ?? 0, 0);
    assert.equal(s.github.listRunners().length, n);
  });
});
