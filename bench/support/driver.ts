/**
 * Load drivers shared by the benchmarks: a fixed number of callers looping for a fixed time
 * (throughput), and one caller timing each call (latency). Both bound their runtime.
 */

export type Call = () => Promise<unknown>;

/** Calls completed per second by `concurrency` callers looping for `durationMs`. */
export async function throughput(call: Call, concurrency: number, durationMs: number): Promise<number> {
  let completed = 0;
  const start = performance.now();
  const end = start + durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      await call();
      completed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  return completed / ((performance.now() - start) / 1000);
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
