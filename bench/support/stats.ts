/**
 * The few statistics the benchmarks print. Medians and percentiles rather than means: a GC
 * pause or a scheduler hiccup in one round must not move the headline figure.
 */

/** The p-th percentile (0-100) of `values` by nearest rank; sorts a copy. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function formatRatio(value: number, baseline: number): string {
  return `${(value / baseline).toFixed(3)}x`;
}
