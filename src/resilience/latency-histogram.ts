/**
 * Recent latency percentiles in fixed memory, for percentile-triggered hedging ("hedge
 * after p95"). A ring of raw samples would need a sort per query; instead this is a
 * log-linear histogram (HdrHistogram's idea: 8 sub-buckets per power of two, so any value is
 * known within 12.5%, and a percentile is interpolated within its bucket) over microseconds,
 * with two generations so old traffic decays: samples go into `current`, which becomes
 * `previous` when it ends, and a percentile reads both (a sliding view of the last one to two
 * generations).
 *
 * A generation ends after `window` ms or once it holds its share of samples, whichever comes
 * first. Time alone is too slow for a busy service: at 2,000 calls/s a 10 s generation holds
 * 20,000 samples, so a shift in latency (a deploy that made the dependency faster, the slow
 * first seconds of a process) would move the percentile only after 10–20 s, and every hedge
 * in between would fire late. The sample share starts at `minSamples` and doubles with each
 * generation up to `generationSamples`: the very first samples (new connections, code not yet
 * optimised; often several times slower than what follows) are the least representative, so
 * they age out first, while later generations are large enough for a stable percentile.
 *
 * The percentile is cached and recomputed only after enough new samples, so asking for it on
 * every call costs nothing.
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
  /** With it, a generation also ends on its sample count: `minSamples` for the first, doubling up to this (default: only time ends one). */
  readonly generationSamples?: number;
  /** Samples needed before a percentile is reported (a p95 of 5 samples means nothing). */
  readonly minSamples: number;
}

export class LatencyHistogram {
  readonly #clock: Clock;
  readonly #window: number;
  readonly #generationSamples: number;
  readonly #minSamples: number;
  #current = new Float64Array(BUCKET_COUNT);
  #previous = new Float64Array(BUCKET_COUNT);
  #currentCount = 0;
  #previousCount = 0;
  #generationEnd: number;
  /** Samples that end the current generation: from `minSamples`, doubling up to `generationSamples`. */
  #generationLimit: number;
  #cachedFor = -1;
  #cached: number | undefined;
  #sinceCompute = 0;

  constructor(clock: Clock, options: LatencyHistogramOptions) {
    this.#clock = clock;
    this.#window = options.window;
    this.#generationSamples = options.generationSamples ?? Number.POSITIVE_INFINITY;
    this.#minSamples = options.minSamples;
    this.#generationEnd = clock.now() + options.window;
    this.#generationLimit = this.#firstLimit();
  }

  /** Records one latency in ms. */
  record(ms: number): void {
    this.#rotate();
    this.#current[bucketOf(ms)]!++;
    this.#sinceCompute++;
    if (++this.#currentCount >= this.#generationLimit) this.#nextGeneration(this.#clock.now());
  }

  get count(): number {
    this.#rotate();
    return this.#currentCount + this.#previousCount;
  }

  /** The latency (ms, interpolated within its bucket) below which `percentile`% of samples fall; undefined until warm. */
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
    const rank = (percentile / 100) * total;
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const inBucket = this.#current[i]! + this.#previous[i]!;
      if (seen + inBucket >= rank && inBucket > 0) {
        // NOTE: interpolated within the bucket, not its top: the top over-states the
        // percentile by up to 12.5%, and a hedge waits that long too, on every hedged call.
        const bottom = bucketBottom(i);
        return (bottom + ((rank - seen) / inBucket) * (bucketTop(i) - bottom)) / 1000;
      }
      seen += inBucket;
    }
    return bucketTop(BUCKET_COUNT - 1) / 1000;
  }

  #rotate(): void {
    const now = this.#clock.now();
    if (now < this.#generationEnd) return;
    // Two windows or more without a rotation: everything is stale.
    const stale = now >= this.#generationEnd + this.#window;
    if (stale) {
      this.#current.fill(0);
      this.#currentCount = 0;
    }
    this.#nextGeneration(now);
    // Nothing recent is known: start over as a new histogram would (idle connections have
    // closed meanwhile, so the next samples are cold ones again).
    if (stale) this.#generationLimit = this.#firstLimit();
  }

  #firstLimit(): number {
    // Without `generationSamples` only time ends a generation.
    if (this.#generationSamples === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    return Math.min(Math.max(1, this.#minSamples), this.#generationSamples);
  }

  /** `current` becomes `previous`; the old `previous` is cleared and reused as `current`. */
  #nextGeneration(now: number): void {
    const recycled = this.#previous.fill(0);
    this.#previous = this.#current;
    this.#previousCount = this.#currentCount;
    this.#current = recycled;
    this.#currentCount = 0;
    this.#generationLimit = Math.min(this.#generationLimit * 2, this.#generationSamples);
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

/** Lower bound (µs) of a bucket: the top of the one below (0 for the first). */
function bucketBottom(index: number): number {
  return index === 0 ? 0 : bucketTop(index - 1);
}
