import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { githubSettingsFromEnv } from '../../runtime/github/config.ts';
import { parseApiUrl } from '../../runtime/github/http.ts';
import { ConfigError } from '../../runtime/util/errors.ts';

describe('github/config', () => {
  it('defaults the API URL to github.com and accepts a PEM from the environment', () => {
    const s = githubSettingsFromEnv({ RUNS_FLEET_GITHUB_APP_ID: '123', RUNS_FLEET_GITHUB_PRIVATE_KEY: 'PEM' });
    assert.deepEqual(s, { apiUrl: 'https://api.github.com', appId: '123', privateKey: 'PEM' });
  });

  it('prefers the client id, and reads the key from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-config-'));
    try {
      writeFileSync(join(dir, 'app.pem'), 'FROM-FILE');
      const s = githubSettingsFromEnv({
        RUNS_FLEET_GITHUB_APP_ID: '123',
        RUNS_FLEET_GITHUB_CLIENT_ID: 'Iv23liabc',
        RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: join(dir, 'app.pem'),
        RUNS_FLEET_GITHUB_API_URL: 'https://ghes.example.com/api/v3',
      });
      assert.deepEqual(s, { apiUrl: 'https://ghes.example.com/api/v3', appId: 'Iv23liabc', privateKey: 'FROM-FILE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every missing or bad setting at once, naming the variable', () => {
    assert.throws(() => githubSettingsFromEnv({ RUNS_FLEET_GITHUB_API_URL: 'ftp://x' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 3);
      assert.match(err.problems[0]!, /RUNS_FLEET_GITHUB_API_URL must be an http\(s\) URL/);
      assert.match(err.problems[1]!, /RUNS_FLEET_GITHUB_APP_ID/);
      assert.match(err.problems[2]!, /RUNS_FLEET_GITHUB_PRIVATE_KEY/);
      return true;
    });
    assert.throws(() => githubSettingsFromEnv({ RUNS_FLEET_GITHUB_APP_ID: '1', RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE: '/nonexistent/app.pem' }), /cannot be read/);
  });

  it('splits a GHES base URL into origin and path prefix', () => {
    assert.deepEqual(parseApiUrl('https://ghes.example.com/api/v3/'), { origin: 'https://ghes.example.com', pathPrefix: '/api/v3' });
    assert.deepEqual(parseApiUrl('https://api.github.com'), { origin: 'https://api.github.com', pathPrefix: '' });
    assert.throws(() => parseApiUrl('not a url'), ConfigError);
    assert.throws(() => parseApiUrl('https://user:pw@ghes.example.com/api/v3'), /credentials/);
  });
});
