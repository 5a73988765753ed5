/**
 * The system-package check `npm test` and `.ci/run` start with, run for real: a copy of the
 * script beside a list naming a package no machine has, so the "missing" branch runs here
 * without removing anything. MESHLET_SYSTEM_DEPS=check keeps a root test run from calling
 * apt-get; as non-root the script takes the same branch on its own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const SCRIPT = new URL('./system-deps.sh', import.meta.url).pathname;

interface Run {
  code: number;
  stderr: string;
  ms: number;
}

function run(script: string, needs: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile('bash', [script, ...needs], { env: { ...process.env, MESHLET_SYSTEM_DEPS: 'check' } }, (error, _stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stderr, ms: performance.now() - started });
    });
  });
}

describe('system-deps.sh', () => {
  let dir: string;
  let script: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshlet-system-deps-'));
    script = join(dir, 'system-deps.sh');
    await copyFile(SCRIPT, script);
    await writeFile(
      join(dir, 'system-packages.txt'),
      ['# a comment, then an entry this machine has and two it has not', 'bash bash test shell', 'meshlet-absent-pkg meshlet-absent-cmd test why', 'meshlet-absent-bench meshlet-absent-bench-cmd bench why', ''].join('\n'),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('regression: a missing package stops the run within seconds with the exact apt-get line, instead of spawn ENOENT mid-suite', async () => {
    const result = await run(script, []);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ {2}sudo apt-get update && sudo apt-get install -y --no-install-recommends meshlet-absent-pkg$/m);
    assert.doesNotMatch(result.stderr, /meshlet-absent-bench/, 'a bench-only package is not asked for by the tests');
    assert.ok(result.ms < 5000, `answered in ${result.ms.toFixed(0)} ms`);
  });

  it('checks each need it is given: bench adds the benchmark packages', async () => {
    const result = await run(script, ['test', 'bench']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--no-install-recommends meshlet-absent-pkg meshlet-absent-bench$/m);
  });

  it('passes quietly when every package of the need is installed', async () => {
    await writeFile(join(dir, 'system-packages.txt'), 'bash bash test shell\nmeshlet-absent-bench meshlet-absent-bench-cmd bench why\n');
    const result = await run(script, ['test']);
    assert.equal(result.code, 0);
    assert.equal(result.stderr, '');
  });
});
