/**
 * An adaptive concurrency limit (Netflix concurrency-limits' Gradient2, the idea behind
 * Envoy's adaptive concurrency filter): nobody knows the right fixed `max` for a dependency,
 * and it changes with its load, so measure it. While latency stays near its long-term
 * baseline, the limit grows; when recent latency climbs above the baseline (queues forming
 * at the dependency), the limit shrinks in proportion, before timeouts and errors start.
 *
 * Each window of samples: gradient = clamp(tolerance * longRtt / shortRtt, 0.5, 1);
 * target = limit * gradient + sqrt(limit) (headroom to probe upward); the limit moves a
 * `smoothing` fraction toward target, within [min, max]. longRtt is a slow average that
 * follows shortRtt; when it lags far above (latency fell), it decays faster so the limit
 * recovers instead of staying inflated. Windows in which the limit was not the bottleneck
 * (fewer than half the slots in use) never raise it.
 */

export interface AdaptiveLimitOptions {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
  /** Samples averaged per update. */
  readonly windowSamples?: number;
  /** How much above the baseline latency still counts as healthy (Gradient2: 1.5 - 2). */
  readonly tolerance?: number;
  /** Fraction of the way the limit moves toward its target per window. */
  readonly smoothing?: number;
  /** Samples the long-term baseline averages over. */
  readonly longWindow?: number;
}

export class AdaptiveLimit {
  readonly #min: number;
  readonly #max: number;
  readonly #windowSamples: number;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #longFactor: number;
  #estimate: number;
  #longRtt = 0;
  #shortRtt = 0;
  #windowSum = 0;
  #windowCount = 0;
  #windowMaxInFlight = 0;

  constructor(options: AdaptiveLimitOptions) {
    this.#min = Math.max(1, options.min);
    this.#max = Math.max(this.#min, options.max);
    this.#estimate = Math.min(this.#max, Math.max(this.#min, options.initial));
    this.#windowSamples = options.windowSamples ?? 10;
    this.#tolerance = options.tolerance ?? 1.5;
    this.#smoothing = options.smoothing ?? 0.2;
    this.#longFactor = 2 / ((options.longWindow ?? 600) / this.#windowSamples + 1);
  }

  /** The whole number of calls allowed in flight now. */
  get limit(): number {
    return Math.floor(this.#estimate);
  }

  /** Records one completed call's latency and how many calls were in flight when it started. */
  onSample(rttMs: number, inFlight: number): void {
    this.#windowSum += rttMs;
    this.#windowCount++;
    if (inFlight > this.#windowMaxInFlight) this.#windowMaxInFlight = inFlight;
    if (this.#windowCount >= this.#windowSamples) this.#update();
  }

  #update(): void {
    const shortRtt = Math.max(this.#windowSum / this.#windowCount, 0.001);
    const appLimited = this.#windowMaxInFlight < this.#estimate / 2;
    this.#windowSum = 0;
    this.#windowCount = 0;
    this.#windowMaxInFlight = 0;
    this.#shortRtt = shortRtt;
    if (this.#longRtt === 0) {
      this.#longRtt = shortRtt;
      return;
    }
    this.#longRtt += (shortRtt - this.#longRtt) * this.#longFactor;
    // Latency dropped well below the baseline: let the baseline follow quickly.
    if (this.#longRtt / shortRtt > 2) this.#longRtt *= 0.9;

    const gradient = Math.max(0.5, Math.min(1, (this.#tolerance * this.#longRtt) / shortRtt));
    const target = this.#estimate * gradient + Math.sqrt(this.#estimate);
    if (appLimited && target > this.#estimate) return;
    const next = this.#estimate * (1 - this.#smoothing) + target * this.#smoothing;
    this.#estimate = Math.min(this.#max, Math.max(this.#min, next));
  }

  toJSON(): { limit: number; longRttMs: number; shortRttMs: number } {
    return { limit: this.limit, longRttMs: round(this.#longRtt), shortRttMs: round(this.#shortRtt) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
