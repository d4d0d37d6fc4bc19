import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../sim/local.ts';

/**
 * The README's two commands, as a newcomer runs them: in a clean copy of the repository (its
 * tracked files, no node_modules) with only the machine's old Node on PATH. The bootstrap may
 * use a Node it finds in RUNS_FLEET_NODE_HOME — here the one running this test, so CI never
 * downloads Node for it — but must install the deps itself. The version line, the README and
 * .ci/run are checked against each other.
 */

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const ENGINES_MIN = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node)?.[1];
/** The commands of the README's first shell block, without their comments. */
const README_COMMANDS = /```sh\n([\s\S]*?)```/.exec(readme)![1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
/** A PATH of the machine's own directories: its Node (if any) is the old one a fresh Debian has. */
const OLD_PATH = '/usr/local/bin:/usr/bin:/bin';

const newer = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! > y![i]!;
  return true;
};

function oldNodeVersion(): string | undefined {
  try {
    const v = execFileSync('node', ['-p', 'process.versions.node'], { env: { ...process.env, PATH: OLD_PATH }, encoding: 'utf8' }).trim();
    return newer(v, ENGINES_MIN!) ? undefined : v;
  } catch {
    return undefined;
  }
}

/** Runs `command` in bash; resolves when `until` matches stdout or the process ends. */
function run(command: string, cwd: string, env: NodeJS.ProcessEnv, until: RegExp, timeoutMs: number) {
  const child: ChildProcess = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { err += d; });
  const started = Date.now();
  // 'close', not 'exit': npm may end before the command under it has written its last lines to the pipe.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const matched = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: nothing matching ${until} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`)), timeoutMs);
    const check = () => { if (until.test(out)) { clearTimeout(timer); resolve(); } };
    child.stdout!.on('data', check);
    void exited.then(() => { clearTimeout(timer); until.test(out) ? resolve() : reject(new Error(`${command} ended without ${until}\nstdout:\n${out}\nstderr:\n${err}`)); });
  });
  const stop = async () => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGTERM');
    return exited;
  };
  return { matched, exited, stop, elapsed: () => Date.now() - started, output: () => ({ out, err }) };
}

describe('the README\'s two commands on a machine with an old Node (bootstrap.sh)', function () {
  it('gives two commands, the second being what .ci/run runs, and agrees with .nvmrc and engines', () => {
    assert.equal(README_COMMANDS.length, 2, README_COMMANDS.join('\n'));
    assert.deepEqual(README_COMMANDS, ['bash bootstrap.sh start', 'bash bootstrap.sh test']);
    assert.match(readFileSync(join(REPO_ROOT, '.ci', 'run'), 'utf8'), new RegExp(`\\nexec ${README_COMMANDS[1]!.replace(/\./g, '\\.')}\\n`));
    const nvmrc = readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim();
    assert.match(nvmrc, /^\d+$/, '.nvmrc names a major version (nvm install / bootstrap.sh install its newest release)');
    assert.ok(ENGINES_MIN, `engines.node is ">=x.y.z": ${pkg.engines.node}`);
    assert.ok(Number(nvmrc) >= Number(ENGINES_MIN!.split('.')[0]), `.nvmrc ${nvmrc} satisfies engines ${pkg.engines.node}`);
    assert.match(readme, new RegExp(`≥ ${ENGINES_MIN!.split('.').slice(0, 2).join('\\.')}\\b`), 'the README states the engines minimum');
  });

  it('stops npm start, test, demo and plan on an old Node within 10 s with one line naming the version and how to get it', async function () {
    const old = oldNodeVersion();
    if (!old) this.skip(); // no Node older than engines on this machine's PATH
    this.timeout(60_000);
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k))), PATH: OLD_PATH };
    await Promise.all(['start', 'test', 'run demo', 'run plan'].map(async (script) => {
      const r = run(`npm ${script}`, REPO_ROOT, env, /$^/, 10_000);
      const code = await r.exited;
      assert.ok(r.elapsed() < 10_000, `npm ${script} took ${r.elapsed()} ms`);
      assert.notEqual(code, 0, `npm ${script} exits non-zero`);
      const lines = r.output().err.split('\n').filter((l) => l.startsWith('runs-fleet'));
      assert.deepEqual(lines, [`runs-fleet needs Node ${pkg.engines.node} but ${execFileSync('bash', ['-c', 'command -v node'], { env, encoding: 'utf8' }).trim()} is v${old}: run \`bash bootstrap.sh start\` (it installs Node ${readFileSync(join(REPO_ROOT, '.nvmrc'), 'utf8').trim()} into ~/.cache/runs-fleet and Valkey), or \`nvm install\` (reads .nvmrc)`], `npm ${script}:\n${r.output().err}`);
    }));
  });

  describe('in a clean copy of the repository', function () {
    // npm ci of every dependency (from the npm cache when warm) dominates: about 30-90 s on 2 busy cores.
    this.timeout(360_000);
    let clean: string;
    let env: NodeJS.ProcessEnv;
    before(function () {
      if (!oldNodeVersion()) console.log('      (no Node older than engines on this machine: the bootstrap finds a new one on PATH)');
      clean = mkdtempSync(join(tmpdir(), 'runs-fleet-clean-'));
      const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT });
      execFileSync('bash', ['-c', `tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C '${clean}'`], { cwd: REPO_ROOT, input: files });
      // A shell's environment (npm's own npm_* variables from `npm test` left out), with the old
      // PATH; the Node running these tests stands in for the one bootstrap.sh caches in ~/.cache/runs-fleet.
      const shell = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
      env = { ...shell, PATH: OLD_PATH, RUNS_FLEET_NODE_HOME: dirname(dirname(process.execPath)), FORCE_COLOR: '0', RUNS_FLEET_LOCAL_STATE: join(clean, 'local-mode.json') };
    });
    after(() => rmSync(clean, { recursive: true, force: true }));

    it('the first command installs the deps and starts local mode (its banner), which stops in order on SIGTERM', async () => {
      // stdout is a pipe here, so local mode writes JSON lines: the banner is the ready record.
      const r = run(README_COMMANDS[0]!, clean, env, /"msg":"runs-fleet local mode ready"|runs-fleet needs Node/, 300_000);
      try {
        await r.matched;
      } finally {
        const code = await r.stop();
        const { out, err } = r.output();
        if (/runs-fleet needs Node/.test(err + out)) assert.ok(r.elapsed() < 10_000, 'the version line comes within 10 s');
        // npm itself ends by the signal; the orchestrator under it stops in order.
        else assert.match(out, /runs-fleet: stopped/, `stopped in order on SIGTERM (exit ${code}):\n${out}\n${err}`);
      }
      assert.match(r.output().out, /"webhookUrl":"http:\/\/127\.0\.0\.1:\d+\/webhook"/);
    });

    it('the second command type-checks and runs the tests, ending with the runner\'s "N passed, N failed" line', async () => {
      // The same command with a config naming one small spec (mocha merges positional specs with .mocharc's).
      const config = join(clean, 'one-spec.mocharc.json');
      writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(join(REPO_ROOT, '.mocharc.json'), 'utf8')), spec: ['tests/cli/stack-options.test.ts'] }));
      const r = run(`${README_COMMANDS[1]!} --config ${config}`, clean, env, /\n\d+ passed, \d+ failed/, 300_000);
      await r.matched;
      assert.equal(await r.exited, 0, r.output().err);
      assert.match(r.output().out, /\n[1-9]\d* passed, 0 failed, 0 skipped\n/);
    });
  });
});
