import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main as plan } from '../../infra/plan.ts';
import { main as status } from '../../runtime/status/cli.ts';
import { main as demo } from '../../sim/demo.ts';
import { main as whatIf } from '../../sim/what-if/cli.ts';
import { main as start, REPO_ROOT } from '../../sim/local.ts';

type Result = { code: number | null; stdout: string; stderr: string };
type Command = (argv: string[]) => Promise<Result>;

/** A command's main() run in process, its output captured. */
function inProcess(main: (argv: string[], out: (s: string) => void, err: (s: string) => void) => Promise<number>): Command {
  return async (argv) => {
    let stdout = '';
    let stderr = '';
    const code = await main(argv, (s) => { stdout += s; }, (s) => { stderr += s; });
    return { code, stdout, stderr };
  };
}

const io = (main: (argv: string[], io: { out: { write(s: string): unknown }; err: { write(s: string): unknown } }) => Promise<number>) =>
  inProcess((argv, out, err) => main(argv, { out: { write: out }, err: { write: err } }));

/** Commands whose entry file runs on import: as a process. */
function spawned(file: string): Command {
  return (argv) => new Promise((resolve) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [file, ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const COMMANDS: Array<[script: string, run: Command]> = [
  ['npm start', io(start)],
  ['npm run demo', io(demo)],
  ['npm run plan', inProcess(plan)],
  ['npm run what-if', inProcess((argv, out, err) => whatIf(argv, out, err, { env: {} }))],
  ['npm run status', inProcess(status)],
  ['npm run orchestrator', spawned('runtime/main.ts')],
  ['npm run sim', spawned('sim/cli.ts')],
  ['npm run bench', spawned('bench/run.ts')],
];

describe('every command: a full --help, and unknown flags exit 2 with the usage', function () {
  this.timeout(120_000);

  for (const [script, run] of COMMANDS) {
    it(`${script}: --help prints the usage with its options (exit 0); --no-such-flag prints the problem and the usage (exit 2)`, async () => {
      const [help, bad] = await Promise.all([run(['--help']), run(['--no-such-flag'])]);
      assert.equal(help.code, 0, help.stderr);
      assert.ok(help.stdout.startsWith(`Usage: ${script}`), `starts with its usage:\n${help.stdout}`);
      assert.match(help.stdout, /\n {2}-h, --help +show this help\n/, 'lists its options');
      assert.match(help.stdout, /Exit codes: 0 /, 'says what its exit codes mean');
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /^Unknown option '--no-such-flag'.*\n\nUsage: /s);
    });
  }

  for (const [script, run] of COMMANDS.slice(0, 4)) {
    it(`${script}: --stack NAME and --stack-file PATH as everywhere; a file given to --stack is refused with the fix`, async () => {
      const help = await run(['--help']);
      assert.match(help.stdout, /-s, --stack NAME +the Pulumi stack: its config is Pulumi\.NAME\.yaml/);
      assert.match(help.stdout, /--stack-file PATH +read the stack config from PATH instead/);
      const wrong = await run(['--stack', 'Pulumi.dev.yaml']);
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /^--stack Pulumi\.dev\.yaml: --stack takes a stack name such as dev; for a file use --stack-file Pulumi\.dev\.yaml\n\nUsage: /);
      const missing = await run(['--stack', 'nosuchstack']);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /^--stack nosuchstack: .*Pulumi\.nosuchstack\.yaml does not exist/);
    });
  }

  it('npm start --print-config renders the same document for --stack prod-existing-vpc and --stack-file Pulumi.prod-existing-vpc.yaml', async () => {
    const run = io(start);
    const [byName, byFile] = await Promise.all([
      run(['--stack', 'prod-existing-vpc', '--print-config']),
      run(['--stack-file', join(REPO_ROOT, 'Pulumi.prod-existing-vpc.yaml'), '--print-config']),
    ]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(byName.stdout, byFile.stdout);
    assert.match(byName.stdout, /"scope": "repo"/, 'the prod stack\'s runner settings, not dev\'s');
  });
});
