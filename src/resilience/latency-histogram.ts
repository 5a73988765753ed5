/**
 * Recent latency percentiles in fixed memory, for percentile-triggered hedging ("hedge
 * after p95"). A ring of raw samples would need a sort per query; instead this is a
 * log-linear histogram (HdrHistogram's idea: 8 sub-buckets per power of two, so any value is
 * known within 12.5%) over microseconds, with two generations so old traffic decays: samples
 * go into `current`, which becomes `previous` every `window` ms, and a percentile reads both
 * (a sliding view of the last one to two windows). The percentile is cached and recomputed
 * only after enough new samples, so asking for it on every call costs nothing.
 */
import type { Clock } from '../core/clock.ts';

const SUB_BUCKETS = 8;
/** 2^27 µs ≈ 134 s: anything slower lands in the last bucket. */
const MAX_EXPONENT = 27;
const BUCKET_COUNT = (MAX_EXPONENT + 1) * SUB_BUCKETS;
/** Recompute the cached percentile after this many new samples. */
const RECOMPUTE_EVERY = 32;

export interface LatencyHistogramOptions {
  /** Generation length in ms; a sample counts for between one and two windows. */
  readonly window: number;
  /** Samples needed before a percentile is reported (a p95 of 5 samples means nothing). */
  readonly minSamples: number;
}

export class LatencyHistogram {
  readonly #clock: Clock;
  readonly #window: number;
  readonly #minSamples: number;
  #current = new Float64Array(BUCKET_COUNT);
  #previous = new Float64Array(BUCKET_COUNT);
  #currentCount = 0;
  #previousCount = 0;
  #generationEnd: number;
  #cachedFor = -1;
  #cached: number | undefined;
  #sinceCompute = 0;

  constructor(clock: Clock, options: LatencyHistogramOptions) {
    this.#clock = clock;
    this.#window = options.window;
    this.#minSamples = options.minSamples;
    this.#generationEnd = clock.now() + options.window;
  }

  /** Records one latency in ms. */
  record(ms: number): void {
    this.#rotate();
    this.#current[bucketOf(ms)]!++;
    this.#currentCount++;
    this.#sinceCompute++;
  }

  get count(): number {
    this.#rotate();
    return this.#currentCount + this.#previousCount;
  }

  /** The latency (ms, rounded up to its bucket's top) below which `percentile`% of samples fall; undefined until warm. */
  percentile(percentile: number): number | undefined {
    this.#rotate();
    // NOTE: while cold, `#compute` returns at once on the sample count, so no scan per call.
    if (this.#cached === undefined || percentile !== this.#cachedFor || this.#sinceCompute >= RECOMPUTE_EVERY) {
      this.#cached = this.#compute(percentile);
      this.#cachedFor = percentile;
      this.#sinceCompute = 0;
    }
    return this.#cached;
  }

  #compute(percentile: number): number | undefined {
    const total = this.#currentCount + this.#previousCount;
    if (total < this.#minSamples || total === 0) return undefined;
    const rank = Math.ceil((percentile / 100) * total);
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.#current[i]! + this.#previous[i]!;
      if (seen >= rank) return bucketTop(i) / 1000;
    }
    return bucketTop(BUCKET_COUNT - 1) / 1000;
  }

  #rotate(): void {
    const now = this.#clock.now();
    if (now < this.#generationEnd) return;
    // Two windows or more without a rotation: everything is stale.
    const stale = now >= this.#generationEnd + this.#window;
    const recycled = this.#previous;
    recycled.fill(0);
    this.#previous = stale ? recycled : this.#current;
    this.#previousCount = stale ? 0 : this.#currentCount;
    this.#current = stale ? this.#current.fill(0) : recycled;
    this.#currentCount = 0;
    this.#generationEnd = now + this.#window;
    this.#sinceCompute = RECOMPUTE_EVERY;
  }
}

/** Index of the bucket holding `ms` (converted to whole microseconds). */
export function bucketOf(ms: number): number {
  const micros = Math.max(1, Math.floor(ms * 1000));
  const exponent = Math.min(MAX_EXPONENT, Math.floor(Math.log2(micros)));
  const sub = Math.min(SUB_BUCKETS - 1, Math.floor((micros / 2 ** exponent - 1) * SUB_BUCKETS));
  return exponent * SUB_BUCKETS + sub;
}

/** Upper bound (µs) of a bucket. */
function bucketTop(index: number): number {
  const exponent = Math.floor(index / SUB_BUCKETS);
  const sub = index % SUB_BUCKETS;
  return 2 ** exponent * (1 + (sub + 1) / SUB_BUCKETS);
}
