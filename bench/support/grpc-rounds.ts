/**
 * The grpc-overhead benchmark's summary of paired rounds. Every round runs each variant once,
 * back to back, so a figure is read against the baseline's figure of the same round (a ratio
 * or a difference) rather than against a median taken over other minutes of a busy machine.
 * The spread of those per-round figures, and of the A/A control's (two identical bare
 * processes), is the noise floor a reader needs before believing a median.
 */
import { median, percentile } from './stats.ts';

/** Median, 10th and 90th percentile of per-round figures. */
export interface Spread {
  readonly median: number;
  readonly p10: number;
  readonly p90: number;
}

export function spreadOf(values: readonly number[]): Spread {
  return { median: median(values), p10: percentile(values, 10), p90: percentile(values, 90) };
}

/** Per-round `variant / baseline`. */
export function pairedRatios(variant: readonly number[], baseline: readonly number[]): number[] {
  return variant.map((value, i) => value / baseline[i]!);
}

/** Per-round `variant - baseline`. */
export function pairedDeltas(variant: readonly number[], baseline: readonly number[]): number[] {
  return variant.map((value, i) => value - baseline[i]!);
}

export function formatSpread(spread: Spread, digits: number, unit = ''): string {
  const f = (value: number): string => `${value >= 0 && unit !== 'x' ? '+' : ''}${value.toFixed(digits)}${unit}`;
  return `${f(spread.median)} [${f(spread.p10)} .. ${f(spread.p90)}]`;
}
