/**
 * Bytes this process allocated on the V8 heap over a stretch of work. Node 24 has no
 * allocation counter (`v8.getHeapStatistics()` reports what is live, not what was allocated),
 * so it is reconstructed: every byte allocated in the window is either still on the heap at
 * its end or was reclaimed by a GC inside it, hence
 *   allocated = (used_heap_size at end - at start) + Σ over the window's GCs (used before - used after).
 * `v8.GCProfiler` reports each GC's heap statistics before and after it, without --trace-gc.
 * Bias: garbage made before the window but collected inside it counts too; over a round of
 * tens of thousands of calls after a warm-up it is the previous round's tail, small beside
 * the window's own. Off-heap memory (Buffers' backing stores, sockets) is not counted.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

export async function measureAllocation<T>(work: () => Promise<T>): Promise<{ result: T; bytes: number }> {
  const profiler = new v8.GCProfiler();
  profiler.start();
  const usedBefore = v8.getHeapStatistics().used_heap_size;
  const result = await work();
  const usedAfter = v8.getHeapStatistics().used_heap_size;
  const profile = profiler.stop();
  let reclaimed = 0;
  for (const gc of profile?.statistics ?? []) reclaimed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  return { result, bytes: usedAfter - usedBefore + reclaimed };
}

/**
 * The least of `runs` measures of `work`, each after a full GC: for a check that `work`
 * allocates (nearly) nothing. Work that allocates per call does so in every run; a one-off
 * inside one window (code optimized mid-run, garbage from before it collected in it) does not
 * recur in all of them. `gc` is the caller's (tests expose it: gcFunction()).
 */
export async function leastAllocation<T>(work: () => Promise<T>, gc: () => void, runs = 3): Promise<{ result: T; bytes: number }> {
  let least: { result: T; bytes: number } | undefined;
  for (let i = 0; i < runs; i++) {
    gc();
    const measured = await measureAllocation(work);
    if (least === undefined || measured.bytes < least.bytes) least = measured;
  }
  return least!;
}

/**
 * V8's `gc()` in a process not started with --expose-gc (node --test cannot pass it): the flag
 * set at run time, and a fresh context, which sees it.
 */
export function gcFunction(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
