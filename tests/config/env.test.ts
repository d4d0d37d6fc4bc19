import assert from 'node:assert/strict';
import { loadEnv } from '../../runtime/config/env.ts';
import { ConfigError } from '../../runtime/util/errors.ts';

const KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n';
const base = {
  RUNS_FLEET_WEBHOOK_SECRET: 'whsec-value-123',
  RUNS_FLEET_VALKEY_URL: 'redis://valkey.sys.svc:6379',
  RUNS_FLEET_GITHUB_APP_ID: '123456',
  RUNS_FLEET_GITHUB_PRIVATE_KEY: KEY,
  RUNS_FLEET_CONFIG_FILE: '/etc/runs-fleet/config.json',
  RUNS_FLEET_POD_NAME: 'orchestrator-0',
};
const noFile = () => {
  throw Object.assign(new Error('nope'), { code: 'ENOENT' });
};

describe('runtime env config', () => {
  it('keeps metrics off the webhook port and bounds the replica wait', () => {
    assert.throws(() => loadEnv({ ...base, RUNS_FLEET_PORT: '9000', RUNS_FLEET_PRIVATE_PORT: '9000' }, noFile), /RUNS_FLEET_PRIVATE_PORT must differ from RUNS_FLEET_PORT/);
    assert.throws(() => loadEnv({ ...base, RUNS_FLEET_VALKEY_WAIT_TIMEOUT_MS: '5000' }, noFile), /RUNS_FLEET_VALKEY_WAIT_TIMEOUT_MS="5000" is not an integer in 10\.\.2500/);
    const env = loadEnv({ ...base, RUNS_FLEET_PRIVATE_PORT: '9100', RUNS_FLEET_VALKEY_WAIT_REPLICAS: '1' }, noFile);
    assert.equal(env.privatePort, 9100);
    assert.equal(env.valkeyWaitReplicas, 1);
  });

  it('reads a complete environment with defaults', () => {
    const env = loadEnv(base, noFile);
    assert.equal(env.port, 8080);
    assert.equal(env.privatePort, 9090);
    assert.equal(env.valkeyWaitReplicas, 0);
    assert.equal(env.githubApiUrl, 'https://api.github.com');
    assert.equal(env.runnerNamespace, 'runs-fleet-runners');
    assert.equal(env.identity, 'orchestrator-0');
    assert.equal(env.previousWebhookSecret, undefined);
    assert.equal(env.kubeconfig, undefined);
  });

  it('supports GitHub Enterprise Server, a key file, rotation and a Valkey password', () => {
    const { RUNS_FLEET_GITHUB_PRIVATE_KEY: _, ...rest } = base;
    const env = loadEnv(
      {
        ...rest, RUNS_FLEET_GITHUB_API_URL: 'https://ghes.example.com/api/v3/', RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: '/keys/app.pem',
        RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS: 'old', RUNS_FLEET_VALKEY_PASSWORD: 'p@ss word', KUBECONFIG: '/home/me/.kube/config',
      },
      (path) => (path === '/keys/app.pem' ? KEY : noFile()),
    );
    assert.equal(env.githubApiUrl, 'https://ghes.example.com/api/v3');
    assert.equal(env.githubPrivateKey, KEY);
    assert.equal(env.previousWebhookSecret, 'old');
    assert.equal(env.valkeyUrl, 'redis://:p%40ss%20word@valkey.sys.svc:6379');
    assert.equal(env.kubeconfig, '/home/me/.kube/config');
  });

  it('lists every problem, each naming the variable and the fix, and never echoes a secret', () => {
    const env = {
      ...base, RUNS_FLEET_PORT: 'http', RUNS_FLEET_GITHUB_APP_ID: 'my app', RUNS_FLEET_GITHUB_PRIVATE_KEY: 'super-secret-not-a-pem',
      RUNS_FLEET_VALKEY_URL: 'http://user:hunter2@valkey', RUNS_FLEET_RUNNER_NAMESPACE: 'Runners', RUNS_FLEET_WEBHOOK_SECRET: '',
    };
    assert.throws(() => loadEnv(env, noFile), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.message;
      for (const name of ['RUNS_FLEET_PORT', 'RUNS_FLEET_GITHUB_APP_ID', 'RUNS_FLEET_GITHUB_PRIVATE_KEY does not hold a PEM', 'RUNS_FLEET_VALKEY_URL has scheme', 'RUNS_FLEET_RUNNER_NAMESPACE', 'RUNS_FLEET_WEBHOOK_SECRET is not set'])
        assert.ok(text.includes(name), `missing ${name} in ${text}`);
      assert.ok(!text.includes('super-secret') && !text.includes('hunter2'), 'a secret leaked into the error');
      return true;
    });
  });

  it('refuses both key variables at once and names an unreadable key file', () => {
    assert.throws(() => loadEnv({ ...base, RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: '/x.pem' }, noFile), /set only one of/);
    const { RUNS_FLEET_GITHUB_PRIVATE_KEY: _, ...rest } = base;
    assert.throws(() => loadEnv({ ...rest, RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: '/x.pem' }, noFile), /\/x\.pem cannot be read \(ENOENT\)/);
  });

  describe('several GitHub Apps (RUNS_FLEET_GITHUB_APPS_FILE)', () => {
    const { RUNS_FLEET_GITHUB_APP_ID: _a, RUNS_FLEET_GITHUB_PRIVATE_KEY: _k, RUNS_FLEET_WEBHOOK_SECRET: _w, ...noApp } = base;
    const files = (map: Record<string, string>) => (path: string) => {
      if (path in map) return map[path]!;
      throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    };

    it('the single-App form is one App with its secrets', () => {
      const env = loadEnv({ ...base, RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS: 'old-secret-value' }, noFile);
      assert.deepEqual(env.githubApps, [{ appId: '123456', privateKey: KEY.trim(), webhookSecret: 'whsec-value-123', previousWebhookSecret: 'old-secret-value', installations: [] }]);
    });

    it('reads a YAML list (and a JSON one): inline and file keys, rotation, installations; the first App fills the single-App fields', () => {
      const yaml = [
        '- appId: 111',
        '  privateKeyFile: /keys/a.pem',
        '  webhookSecret: secret-a',
        '  installations: [1, 2]',
        '- appId: Iv23liABC',
        `  privateKey: ${JSON.stringify(KEY.replace(/\n/g, '\\n'))}`,
        '  webhookSecret: secret-b',
        '  previousWebhookSecret: secret-b-old',
      ].join('\n');
      const env = loadEnv({ ...noApp, RUNS_FLEET_GITHUB_APPS_FILE: '/etc/apps.yaml' }, files({ '/etc/apps.yaml': yaml, '/keys/a.pem': KEY }));
      assert.deepEqual(env.githubApps, [
        { appId: '111', privateKey: KEY, webhookSecret: 'secret-a', previousWebhookSecret: undefined, installations: [1, 2] },
        { appId: 'Iv23liABC', privateKey: KEY, webhookSecret: 'secret-b', previousWebhookSecret: 'secret-b-old', installations: [] },
      ]);
      assert.equal(env.githubAppId, '111');
      assert.equal(env.webhookSecret, 'secret-a');
      const json = JSON.stringify({ apps: [{ appId: 7, privateKey: KEY, webhookSecret: 's7' }] });
      assert.equal(loadEnv({ ...noApp, RUNS_FLEET_GITHUB_APPS_FILE: '/a.json' }, files({ '/a.json': json })).githubApps.length, 1);
    });

    it('names every bad entry by position and field, never echoing a key or secret', () => {
      const json = JSON.stringify([
        { appId: 'my app', privateKey: 'super-secret-not-a-pem', webhookSecret: 'hunter2', installations: [5] },
        { appId: 9, privateKeyFile: '/missing.pem' },
        { appId: 9, privateKey: KEY, webhookSecret: 'x', installations: [5, -1] },
      ]);
      assert.throws(() => loadEnv({ ...base, RUNS_FLEET_GITHUB_APPS_FILE: '/a.json' }, files({ '/a.json': json })), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.message;
        for (const part of [
          'so RUNS_FLEET_GITHUB_APP_ID, RUNS_FLEET_GITHUB_PRIVATE_KEY, RUNS_FLEET_WEBHOOK_SECRET must not be',
          'entry 1: appId must be', 'entry 1: privateKey does not hold a PEM', 'entry 2: privateKeyFile /missing.pem cannot be read (ENOENT)',
          'entry 2: webhookSecret must be set', 'entry 3: appId 9 is listed twice', 'entry 3: installations must be a list',
        ])
          assert.ok(text.includes(part), `missing ${part} in ${text}`);
        assert.ok(!text.includes('super-secret') && !text.includes('hunter2'), 'a secret leaked into the error');
        return true;
      });
      assert.throws(() => loadEnv({ ...noApp, RUNS_FLEET_GITHUB_APPS_FILE: '/a.json' }, files({ '/a.json': '[]' })), /must hold a non-empty list of Apps/);
      assert.throws(() => loadEnv({ ...noApp, RUNS_FLEET_GITHUB_APPS_FILE: '/a.json' }, files({ '/a.json': '{"x": [' })), /is not valid JSON or YAML/);
      const twice = JSON.stringify([{ appId: 1, privateKey: KEY, webhookSecret: 'a', installations: [3] }, { appId: 2, privateKey: KEY, webhookSecret: 'b', installations: [3] }]);
      assert.throws(() => loadEnv({ ...noApp, RUNS_FLEET_GITHUB_APPS_FILE: '/a.json' }, files({ '/a.json': twice })), /entry 2: installation 3 is also listed under entry 1/);
    });
  });
});
