/**
 * Pins a bench process to one CPU with `taskset` (util-linux) when it is there. On the 2-vCPU
 * machines meshlet is built on, a process's CPU per unit of work depends on which vCPU it
 * lands on and on what the other vCPU runs at the same time (a fixed block of JavaScript cost
 * 1.2-1.5 us alone on either vCPU, ~1.3 on one and ~1.9 on the other when both ran at once),
 * and the scheduler moves processes between vCPUs as it likes. Giving every caller process the
 * same vCPU, and servers the other one, takes that placement out of the comparison; the
 * alternating rounds still spread what is left over the variants alike.
 * BENCH_PIN=0 turns pinning off; without taskset or with one CPU it is off.
 *
 * Pinned Node processes run with `--single-threaded-gc`. NOTE: taskset pins every thread of a
 * process, V8's parallel scavenger helpers too, so they can only take turns with the main
 * thread on its one CPU: measured in memory (bench/overhead.ts), a scavenge then took 2-4 ms
 * instead of 0.7-1 ms, ~0.9-1.9 us per call instead of 0.25-0.45, and differently from process
 * to process, which was the "slow mode" some caller processes drew for their whole life. The
 * flag does the same collections on the main thread, for every variant alike.
 * BENCH_SINGLE_GC=0 leaves V8's default.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export type PinRole = 'caller' | 'server';

const TASKSET = '/usr/bin/taskset';

/** Every CPU of the machine: availableParallelism() is 1 inside a process already pinned. */
const CPU_COUNT = cpus().length;

function tasksetWorks(): boolean {
  if (process.env.BENCH_PIN === '0' || CPU_COUNT < 2) return false;
  try {
    execFileSync(TASKSET, ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const enabled = tasksetWorks();
const GC_FLAGS = enabled && process.env.BENCH_SINGLE_GC !== '0' ? ['--single-threaded-gc'] : [];

/** The CPU a role runs on: callers on the last CPU, servers on CPU 0. */
function cpuOf(role: PinRole): number {
  return role === 'server' ? 0 : CPU_COUNT - 1;
}

/** Whether processes are pinned, for a bench's header line. */
export function pinning(): string {
  if (!enabled) return 'not pinned';
  const gc = GC_FLAGS.length > 0 ? ', Node processes with --single-threaded-gc (BENCH_SINGLE_GC=0 turns it off)' : ", V8's default GC threads";
  return `callers pinned to CPU ${cpuOf('caller')}, servers to CPU ${cpuOf('server')} (BENCH_PIN=0 turns it off)${gc}`;
}

/**
 * Options for `fork()` (merge them into the caller's) that run `process.execPath` under
 * taskset: fork starts `execPath` with `execArgv` before the script, so taskset receives
 * `-c N node [node's flags]` and execs Node on that CPU, keeping the IPC channel.
 */
export function pinnedForkOptions(role: PinRole): { execPath: string; execArgv: string[] } {
  if (!enabled) return { execPath: process.execPath, execArgv: process.execArgv };
  return { execPath: TASKSET, execArgv: ['-c', String(cpuOf(role)), process.execPath, ...process.execArgv, ...GC_FLAGS] };
}

/** `[command, args]` for `spawn()` that runs `command args` pinned to the role's CPU (Node with the GC flag). */
export function pinnedCommand(role: PinRole, command: string, args: readonly string[]): [string, string[]] {
  if (!enabled) return [command, [...args]];
  return [TASKSET, ['-c', String(cpuOf(role)), command, ...(command === process.execPath ? GC_FLAGS : []), ...args]];
}
