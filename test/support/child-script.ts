/**
 * Runs a TypeScript script as a child Node process, the way a CLI, a cron job or a one-shot
 * handler runs, and reads what it printed. The liveness tests (issue 15) use it to assert that
 * a process ends on its own: the child is SIGKILLed after a bound, so a handle that holds it
 * open fails the test with a message instead of hanging the suite.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

export interface ScriptRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ScriptOptions {
  /** SIGKILL after this long: far longer than the script needs, shorter than what it must not wait for. */
  readonly killAfterMs: number;
  /** The child's whole environment; the parent's when absent. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ExitExpectation {
  /** Names the process in the messages: 'the script' unless said. */
  readonly what?: string;
  /** What held the process open when it was killed: 'something' unless said. */
  readonly heldBy?: string;
  /** Said after a non-zero exit code, e.g. what code 13 means for this script. */
  readonly exitNote?: string;
}

/** Spawns `node script ...args`, collects its output, and resolves once it exited or was killed. */
export async function runScript(script: string, args: readonly string[], options: ScriptOptions): Promise<ScriptRun> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(killer);
  return { stdout, stderr, code, signal };
}

/** Fails unless the run exited 0 by itself: not killed after `killAfterMs`, no error exit. */
export function assertExitedOnItsOwn(run: ScriptRun, killAfterMs: number, expect: ExitExpectation = {}): void {
  const what = expect.what ?? 'the script';
  const output = `\n${run.stdout}\n${run.stderr}`;
  assert.equal(run.signal, null, `${what} was still running after ${killAfterMs} ms: ${expect.heldBy ?? 'something'} held the process open${output}`);
  assert.equal(run.code, 0, `${what} exited with ${run.code}${expect.exitNote === undefined ? '' : ` ${expect.exitNote}`}${output}`);
}

/** `runScript` then `assertExitedOnItsOwn`: the output of a script that ended by itself with 0. */
export async function runScriptToExit(script: string, args: readonly string[], options: ScriptOptions & ExitExpectation): Promise<{ stdout: string; stderr: string }> {
  const run = await runScript(script, args, options);
  assertExitedOnItsOwn(run, options.killAfterMs, options);
  return { stdout: run.stdout, stderr: run.stderr };
}

/** The JSON a script printed as its last line of output (its result), failing clearly when there is none. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    assert.fail(`the script's last line of output is not JSON:\n${stdout}`);
  }
}
