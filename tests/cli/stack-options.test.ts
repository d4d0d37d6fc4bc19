import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_USAGE, parseCommandLine, resolveStack, STACK_OPTIONS, UsageError } from '../../runtime/util/cli.ts';
import { REPO_ROOT } from '../../sim/local.ts';
import { main as whatIf } from '../../sim/what-if/cli.ts';

describe('one grammar for every command (runtime/util/cli.ts)', () => {
  let tmp: string;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'runs-fleet-cli-'));
    writeFileSync(join(tmp, 'Pulumi.staging.yaml'), 'config: {}\n');
    writeFileSync(join(tmp, 'my-stack.yaml'), 'config: {}\n');
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('--stack NAME is Pulumi.NAME.yaml at the root; --stack-file PATH is that file, named by --stack or the file name', () => {
    assert.deepEqual(resolveStack({}, REPO_ROOT), { stack: 'dev', file: join(REPO_ROOT, 'Pulumi.dev.yaml') });
    assert.deepEqual(resolveStack({ stack: 'prod-existing-vpc' }, REPO_ROOT), { stack: 'prod-existing-vpc', file: join(REPO_ROOT, 'Pulumi.prod-existing-vpc.yaml') });
    assert.deepEqual(resolveStack({ stack: 'staging' }, tmp), { stack: 'staging', file: join(tmp, 'Pulumi.staging.yaml') });
    assert.deepEqual(resolveStack({ 'stack-file': join(tmp, 'Pulumi.staging.yaml') }), { stack: 'staging', file: join(tmp, 'Pulumi.staging.yaml') });
    assert.deepEqual(resolveStack({ 'stack-file': join(tmp, 'my-stack.yaml') }), { stack: 'local', file: join(tmp, 'my-stack.yaml') });
    assert.deepEqual(resolveStack({ stack: 'prod', 'stack-file': join(tmp, 'my-stack.yaml') }), { stack: 'prod', file: join(tmp, 'my-stack.yaml') });
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ stack: 'Pulumi.dev.yaml' }, /^--stack Pulumi\.dev\.yaml: --stack takes a stack name such as dev; for a file use --stack-file Pulumi\.dev\.yaml$/],
    [{ stack: '../x' }, /--stack takes a stack name.*--stack-file \.\.\/x/],
    [{ stack: 'a b' }, /^--stack a b: not a stack name .*e\.g\. --stack dev$/],
    [{ stack: '..' }, /not a stack name/],
    [{ stack: 'nosuchstack' }, /^--stack nosuchstack: .*Pulumi\.nosuchstack\.yaml does not exist; .*--stack-file PATH$/],
    [{ 'stack-file': 'no/such/file.yaml' }, /^--stack-file no\/such\/file\.yaml: .* does not exist; pass the path of a Pulumi stack file/],
  ];
  for (const [values, message] of bad) {
    it(`rejects ${JSON.stringify(values)} naming the flag, the value and the fix`, () => {
      assert.throws(() => resolveStack(values, REPO_ROOT), (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }

  it('npm run what-if resolves --stack / --stack-file with resolveStack too, before it reads any trace', async () => {
    let err = '';
    const code = await whatIf(['--stack-file', join(tmp, 'no-such.yaml'), '--csv', 'no-such.csv', '--set', 'pools[0].min=4'], () => {}, (s) => { err += s; }, { env: {} });
    assert.equal(code, EXIT_USAGE);
    assert.match(err, /^--stack-file .*no-such\.yaml: .* does not exist; pass the path of a Pulumi stack file.*\n\nUsage: npm run what-if/s);
  });

  it('prints the usage on --help (exit 0) and the problem plus the usage on an unknown flag (exit 2)', () => {
    let out = '';
    let err = '';
    const w = { write: (s: string) => (out += s) };
    const e = { write: (s: string) => (err += s) };
    assert.deepEqual(parseCommandLine(['--help'], STACK_OPTIONS, 'USAGE\n', w, e), { exit: 0 });
    assert.equal(out, 'USAGE\n');
    assert.deepEqual(parseCommandLine(['--stak', 'dev'], STACK_OPTIONS, 'USAGE\n', w, e), { exit: EXIT_USAGE });
    assert.match(err, /Unknown option '--stak'.*\n\nUSAGE\n$/s);
    const parsed = parseCommandLine(['-s', 'dev', '--stack-file', 'x'], STACK_OPTIONS, 'USAGE\n', w, e);
    assert.ok('values' in parsed);
    assert.deepEqual({ ...parsed.values }, { stack: 'dev', 'stack-file': 'x' });
  });
});
