/**
 * Runs `examples/demo/main.ts` as `npm run demo` does, in a child process, and reads what it
 * printed: the demo tests assert the output a user sees, and that the process ended on its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const DEMO = new URL('../../examples/demo/main.ts', import.meta.url).pathname;
/** The demo takes about 1 s at the tests' sizes; past this it did not exit on its own. */
const KILLED_AFTER_MS = 45_000;

export interface DemoRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export async function runDemo(args: readonly string[], calls: number, env: NodeJS.ProcessEnv = process.env): Promise<DemoRun> {
  const child = spawn(process.execPath, [DEMO, ...args], { env: { ...env, DEMO_CALLS: String(calls) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), KILLED_AFTER_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  return { stdout, stderr, code, signal };
}

export function assertExitedOnItsOwn(run: DemoRun): void {
  assert.equal(run.signal, null, `the demo was still running after ${KILLED_AFTER_MS} ms: something held the process open\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 0, `the demo exited with ${run.code}\n${run.stdout}\n${run.stderr}`);
}

/** The per-endpoint table's row for `name` (a regex source): attempts, calls, success %. */
export function tableRow(stdout: string, name: string): { attempts: number; calls: number; success: number } | undefined {
  const match = new RegExp(`^${name}\\s+(\\d+)\\s+(\\d+)\\s+([\\d.]+)%`, 'm').exec(stdout);
  return match === null ? undefined : { attempts: Number(match[1]), calls: Number(match[2]), success: Number(match[3]) };
}

/** Every call answered, none failed: no MeshError row, and the overall row has `calls` at 100 %. */
export function assertEveryCallSucceeded(stdout: string, calls: number): void {
  assert.equal(tableRow(stdout, '\\(error\\)'), undefined, `some calls failed with a MeshError:\n${stdout}`);
  const overall = tableRow(stdout, 'overall');
  assert.deepEqual([overall?.calls, overall?.success], [calls, 100], `every call answered, and successfully:\n${stdout}`);
}
