/**
 * Runs `examples/demo/main.ts` as `npm run demo` does, in a child process, and reads what it
 * printed: the demo tests assert the output a user sees, and that the process ended on its own.
 */
import assert from 'node:assert/strict';
import { assertExitedOnItsOwn as assertScriptExitedOnItsOwn, runScript, type ScriptRun } from '../support/child-script.ts';

const DEMO = new URL('../../examples/demo/main.ts', import.meta.url).pathname;
/** The demo takes about 1 s at the tests' sizes; past this it did not exit on its own. */
const KILLED_AFTER_MS = 45_000;

export type DemoRun = ScriptRun;

export function runDemo(args: readonly string[], calls: number, env: NodeJS.ProcessEnv = process.env): Promise<DemoRun> {
  return runScript(DEMO, args, { killAfterMs: KILLED_AFTER_MS, env: { ...env, DEMO_CALLS: String(calls) } });
}

export function assertExitedOnItsOwn(run: DemoRun): void {
  assertScriptExitedOnItsOwn(run, KILLED_AFTER_MS, { what: 'the demo' });
}

/** The per-endpoint table's row for `name` (a regex source): attempts, calls, success %. */
export function tableRow(stdout: string, name: string): { attempts: number; calls: number; success: number } | undefined {
  const match = new RegExp(`^${name}\\s+(\\d+)\\s+(\\d+)\\s+([\\d.]+)%`, 'm').exec(stdout);
  return match === null ? undefined : { attempts: Number(match[1]), calls: Number(match[2]), success: Number(match[3]) };
}

/**
 * Whether the per-endpoint table has a row for `name`, whatever it answered. NOTE: not tableRow: an
 * instance that answered no call prints `-` for its success rate, and 'flaky' (503 half the time,
 * ejected after 5 failures in a row) answers none in about 1 run in 32.
 */
export function hasRow(stdout: string, name: string): boolean {
  return new RegExp(`^${name}\\s+\\d+\\s+\\d+\\s`, 'm').test(stdout);
}

/** Every call answered, none failed: no MeshError row, and the overall row has `calls` at 100 %. */
export function assertEveryCallSucceeded(stdout: string, calls: number): void {
  assert.equal(tableRow(stdout, '\\(error\\)'), undefined, `some calls failed with a MeshError:\n${stdout}`);
  const overall = tableRow(stdout, 'overall');
  assert.deepEqual([overall?.calls, overall?.success], [calls, 100], `every call answered, and successfully:\n${stdout}`);
}
