/**
 * `npm run demo -- --canary` (issue 11's demo) as a user runs it: the v2 subset takes about
 * 10% of calls, the mid-run push moves it to about 50%, the table shows the split per subset,
 * every call succeeds, and the process exits on its own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertEveryCallSucceeded, assertExitedOnItsOwn, runDemo } from './run-demo.ts';

const CALLS = 2000;

/** The split table's row for a subset: calls and share at each step. */
function splitRow(stdout: string, subset: string): { calls: number; percent: number }[] {
  const match = new RegExp(`^${subset}\\s+(\\d+) \\(([\\d.]+)%\\)\\s+(\\d+) \\(([\\d.]+)%\\)$`, 'm').exec(stdout);
  assert.ok(match !== null, `no split row for ${subset}:\n${stdout}`);
  return [
    { calls: Number(match[1]), percent: Number(match[2]) },
    { calls: Number(match[3]), percent: Number(match[4]) },
  ];
}

it('npm run demo -- --canary: v2 takes ~10%, then ~50% after the push, every call succeeds, and it exits on its own', async () => {
  const run = await runDemo(['--canary'], CALLS);
  assertExitedOnItsOwn(run);
  const [before, after] = splitRow(run.stdout, 'v2');
  // Binomial spread at these sizes is about ±1% (at 10%) and ±2.5% (at 50%); ±5 leaves room for the calls in flight at the push.
  assert.ok(Math.abs(before!.percent - 10) <= 5, `v2 before the push: ${before!.percent}%`);
  assert.ok(Math.abs(after!.percent - 50) <= 8, `v2 after the push: ${after!.percent}%`);
  assert.match(run.stdout, /"name":"canary","targets":\[\{"service":"catalog","subset":"v1","weight":50,/);
  assertEveryCallSucceeded(run.stdout, CALLS);
});

it('npm run demo with two scenarios says how to run it and exits 2', async () => {
  const run = await runDemo(['--canary', '--consul'], CALLS);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /one scenario at a time, got --canary --consul; usage: npm run demo \[-- --consul \| --canary\]/);
});
