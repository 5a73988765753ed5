/**
 * `npm run demo` (the file scenario) as a user runs it, since the Consul scenario shares its
 * traffic and report code: the mid-run file edit applies as one more version, every call
 * succeeds, the three instances are in the table, and the process exits on its own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertEveryCallSucceeded, assertExitedOnItsOwn, hasRow, runDemo } from './run-demo.ts';

const CALLS = 400;

it('npm run demo: the file edit applies mid-run, every call succeeds, and it exits on its own', async () => {
  const run = await runDemo([], CALLS);
  assertExitedOnItsOwn(run);
  assert.match(run.stdout, /config versions applied: v1 \(bootstrap\) → v2 \(file:…\/mesh\.json\) → v3 \(file:…\/mesh\.json\)$/m);
  for (const name of ['healthy', 'slow', 'flaky']) assert.ok(hasRow(run.stdout, name), `no row for ${name}:\n${run.stdout}`);
  assertEveryCallSucceeded(run.stdout, CALLS);
});

it('npm run demo with an unknown argument says how to run it and exits 2', async () => {
  const run = await runDemo(['--consl'], CALLS);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown argument --consl; usage: npm run demo \[-- --consul \| --canary\]/);
});
