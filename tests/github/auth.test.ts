import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request } from 'undici';
import { AppJwtSource, createAppJwt, loadAppPrivateKey } from '../../runtime/github/app-jwt.ts';
import { ConfigError } from '../../runtime/util/errors.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';
import { Harness, JumpingClock } from './support.ts';

const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

describe('github/auth', () => {
  let double: GitHubDouble;
  let clock: JumpingClock;
  let h: Harness;

  beforeEach(async () => {
    clock = new JumpingClock();
    double = await startGitHubDouble({ clock });
    h = new Harness();
  });
  afterEach(async () => {
    await h.close();
    await double.stop();
  });

  /** GET /orgs/acme/installation with a raw bearer token: the double's verdict. */
  const askDouble = async (jwt: string) => {
    const res = await request(`${double.url}/orgs/acme/installation`, { headers: { authorization: `Bearer ${jwt}` } });
    const body = (await res.body.json()) as { message?: string };
    return { status: res.statusCode, message: body.message };
  };

  describe('App JWT', () => {
    it('is RS256 with iat = now − 30 s, exp = iat + 10 min, iss = the app id, and verifies', async () => {
      const key = loadAppPrivateKey(double.privateKeyPem);
      const jwt = await createAppJwt(key, double.appId, clock.now());
      const [h64, p64, sig] = jwt.split('.') as [string, string, string];
      assert.deepEqual(decode(h64), { alg: 'RS256', typ: 'JWT' });
      const now = Math.floor(clock.now() / 1000);
      assert.deepEqual(decode(p64), { iat: now - 30, exp: now + 570, iss: double.appId });
      const ok = createVerify('RSA-SHA256').update(`${h64}.${p64}`).verify(createPublicKey(key), Buffer.from(sig, 'base64url'));
      assert.equal(ok, true);
      assert.equal((await askDouble(jwt)).status, 200);
    });

    it('accepts the client id as issuer, and a PKCS#8 key as well as PKCS#1', async () => {
      const pkcs8 = createPrivateKey(double.privateKeyPem).export({ type: 'pkcs8', format: 'pem' }) as string;
      assert.match(double.privateKeyPem, /BEGIN RSA PRIVATE KEY/);
      assert.match(pkcs8, /BEGIN PRIVATE KEY/);
      assert.equal((await askDouble(await createAppJwt(loadAppPrivateKey(pkcs8), double.clientId, clock.now()))).status, 200);
    });

    it('accepts a PEM whose newlines arrived escaped as \\n (a common env-var mangling)', async () => {
      const escaped = double.privateKeyPem.trim().replace(/\n/g, '\\n');
      assert.equal((await askDouble(await createAppJwt(loadAppPrivateKey(escaped), double.appId, clock.now()))).status, 200);
    });

    it('the double rejects an expired JWT, a wrong key, a wrong issuer, and an exp too far ahead', async () => {
      const key = loadAppPrivateKey(double.privateKeyPem);
      const expired = await askDouble(await createAppJwt(key, double.appId, clock.now() - 20 * 60_000));
      assert.deepEqual(expired, { status: 401, message: "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires." });

      const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      assert.deepEqual(await askDouble(await createAppJwt(otherKey, double.appId, clock.now())), { status: 401, message: 'A JSON web token could not be decoded' });
      assert.deepEqual(await askDouble(await createAppJwt(key, 999, clock.now())), { status: 401, message: 'Integration not found' });

      const now = Math.floor(clock.now() / 1000);
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ iat: now, exp: now + 3600, iss: String(double.appId) })}`;
      const longLived = `${unsigned}.${sign(unsigned, key)}`;
      assert.deepEqual(await askDouble(longLived), { status: 401, message: "'Expiration time' claim ('exp') is too far in the future." });

      assert.equal((await askDouble('not-a-jwt')).status, 401);
      const noAuth = await request(`${double.url}/orgs/acme/installation`);
      assert.equal(noAuth.statusCode, 401);
      await noAuth.body.dump();
    });

    it('AppJwtSource reuses a JWT until a minute before expiry', async () => {
      const source = new AppJwtSource(loadAppPrivateKey(double.privateKeyPem), double.appId);
      const t0 = clock.now();
      const first = await source.get(t0);
      // exp = t0 − 30 s + 10 min, so the refresh margin starts at t0 + 8.5 min.
      assert.equal(await source.get(t0 + 8 * 60_000), first);
      assert.notEqual(await source.get(t0 + 8.5 * 60_000 + 1_000), first);
    });

    it('a key that is not a PEM RSA key is a ConfigError that does not echo the key', () => {
      const garbage = 'MIIEpAIBAAKCAQEA-this-is-not-a-key-secretmaterial';
      assert.throws(() => loadAppPrivateKey(garbage, 'RUNS_FLEET_GITHUB_PRIVATE_KEY'), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /RUNS_FLEET_GITHUB_PRIVATE_KEY is not a PEM private key/);
        assert.ok(!err.message.includes('secretmaterial'));
        return true;
      });
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      assert.throws(() => loadAppPrivateKey(ec), /ec key; GitHub Apps sign with RSA/);
    });
  });

  describe('installation tokens', () => {
    const jit = (name: string) => ({ scope: 'org' as const, owner: 'acme', installationId: 1, name, runnerGroupId: 1, labels: ['x'] });

    it('10 concurrent callers share one token request', async () => {
      const client = await h.client(double, { clock });
      await Promise.all(Array.from({ length: 10 }, (_, i) => client.generateJitConfig(jit(`c-${i}`))));
      assert.equal(double.calls(ROUTES.createAccessToken), 1);
      assert.equal(double.calls(ROUTES.orgJitConfig), 10);
    });

    it('is reused until 5 minutes before expiry, then refreshed', async () => {
      const client = await h.client(double, { clock });
      await client.generateJitConfig(jit('t-1'));
      clock.advance(54 * 60_000);
      await client.generateJitConfig(jit('t-2'));
      assert.equal(double.calls(ROUTES.createAccessToken), 1, 'still valid for 6 more minutes');
      clock.advance(2 * 60_000);
      await client.generateJitConfig(jit('t-3'));
      assert.equal(double.calls(ROUTES.createAccessToken), 2, 'refreshed inside the 5-minute margin');
      assert.equal(double.stats().tokensIssued, 2);
    });

    it('a token GitHub rejects (401) is dropped and replaced once, and the call succeeds', async () => {
      const client = await h.client(double, { clock });
      await client.generateJitConfig(jit('r-1'));
      double.revokeTokens();
      await client.generateJitConfig(jit('r-2'));
      assert.equal(double.calls(ROUTES.createAccessToken), 2);
      assert.equal(double.calls(ROUTES.orgJitConfig), 3, 'one 401, one success after the refresh');
    });

    it('a failed token request fails every waiting caller, and the next call asks again', async () => {
      const client = await h.client(double, { clock, retry: { attempts: 1 } });
      double.inject(ROUTES.createAccessToken, { kind: 'status', status: 404, message: 'Not Found' });
      const results = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => client.generateJitConfig(jit(`f-${i}`))));
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
      assert.equal(double.calls(ROUTES.createAccessToken), 1);
      await client.generateJitConfig(jit('f-ok'));
      assert.equal(double.calls(ROUTES.createAccessToken), 2);
    });
  });
});

/** Signs arbitrary claims with the right key, to test the double's claim checks in isolation. */
function sign(unsigned: string, key: KeyObject): string {
  return createSign('RSA-SHA256').update(unsigned).sign(key).toString('base64url');
}
