/**
 * How long to wait before a retry. Exponential backoff with "full jitter"
 * (`random(0, min(max, base·2^n))`, from AWS's "Exponential Backoff and Jitter"): spreading
 * retries uniformly over the whole interval is what breaks up the synchronized waves of
 * retries that a fleet of clients produces when a dependency blips; a fixed or
 * equal-jitter backoff keeps the waves.
 */

export interface Backoff {
  /** Delay in ms before retry number `retry` (0 for the first retry). */
  delay(retry: number): number;
}

export interface BackoffPolicy {
  readonly base: number;
  readonly max: number;
}

/** `random` returns [0, 1); injectable so tests can pin the jitter. */
export function fullJitterBackoff(policy: BackoffPolicy, random: () => number = Math.random): Backoff {
  const { base, max } = policy;
  return {
    delay(retry: number): number {
      // NOTE: 2 ** retry overflows to Infinity for huge retry counts; Math.min clips it.
      const ceiling = Math.min(max, base * 2 ** retry);
      return random() * ceiling;
    },
  };
}
