/**
 * Load drivers shared by the benchmarks: a fixed number of callers looping for a fixed time
 * (throughput), and one caller timing each call (latency). Both bound their runtime.
 */

export type Call = () => Promise<unknown>;

/** Calls completed per second by `concurrency` callers looping for `durationMs`. */
export interface ThroughputResult {
  /** Calls per second. */
  readonly perSecond: number;
  /** This process's CPU time (user + system) per call, in µs: the caller's own cost, which machine noise moves far less than throughput. */
  readonly cpuPerCallUs: number;
  /** Calls completed in the window. */
  readonly calls: number;
}

export async function throughput(call: Call, concurrency: number, durationMs: number): Promise<ThroughputResult> {
  let completed = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      await call();
      completed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsed = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { perSecond: completed / (elapsed / 1000), cpuPerCallUs: (used.user + used.system) / completed, calls: completed };
}

/** Per-call latencies in microseconds from one caller, for at most `count` calls or `maxMs`. */
export async function latencies(call: Call, count: number, maxMs: number): Promise<number[]> {
  const samples: number[] = [];
  const end = performance.now() + maxMs;
  while (samples.length < count && performance.now() < end) {
    const start = performance.now();
    await call();
    samples.push((performance.now() - start) * 1000);
  }
  return samples;
}
