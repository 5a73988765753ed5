/**
 * Exact latency percentiles of a service's recent logical calls for the admin page: the last
 * `capacity` samples, each with the second it ended in, and percentiles over those of the last
 * `seconds` seconds. A ring of raw samples (not a histogram) because the page asks at most once
 * a second per viewer, so a sort of at most `capacity` numbers then is cheaper than bucketing
 * every call; memory is fixed (two Float64Arrays). At a high call rate the window is the last
 * `capacity` calls rather than the last `seconds` seconds, which the page says.
 */

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  /** How many samples the percentiles are over. */
  readonly samples: number;
}

export class LatencyWindow {
  readonly #durations: Float64Array;
  readonly #seconds: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#durations = new Float64Array(capacity);
    this.#seconds = new Float64Array(capacity);
  }

  record(second: number, durationMs: number): void {
    this.#durations[this.#next] = durationMs;
    this.#seconds[this.#next] = second;
    this.#next = (this.#next + 1) % this.#durations.length;
    if (this.#count < this.#durations.length) this.#count++;
  }

  /** p50/p95/p99 (ms, nearest rank) of the samples from the `seconds` seconds up to and including `now`. */
  percentiles(now: number, seconds: number): Percentiles {
    // A typed array sorts numerically without a comparator call per comparison (several times faster).
    const scratch = new Float64Array(this.#count);
    let n = 0;
    for (let i = 0; i < this.#count; i++) if (this.#seconds[i]! > now - seconds) scratch[n++] = this.#durations[i]!;
    if (n === 0) return { p50: null, p95: null, p99: null, samples: 0 };
    const recent = scratch.subarray(0, n).sort();
    const at = (p: number): number => round(recent[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)]!);
    return { p50: at(50), p95: at(95), p99: at(99), samples: n };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
