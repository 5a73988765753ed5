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

/**
 * A 90% interval for the median of figures grouped by draw (a fresh process per variant per
 * draw): a hierarchical bootstrap that resamples the draws, then the rounds within each drawn
 * one, and takes the median of each resample. NOTE: the draws are resampled too because a
 * process can run a whole draw faster or slower than its twin; rounds of one draw are not
 * independent of each other, and an interval over pooled rounds alone would be too narrow.
 * Seeded, so a run's interval is reproducible from its figures.
 */
export function medianInterval(groups: readonly (readonly number[])[], resamples = 2000, seed = 1): { low: number; high: number } {
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const medians = new Float64Array(resamples);
  const sample: number[] = [];
  for (let i = 0; i < resamples; i++) {
    sample.length = 0;
    for (let d = 0; d < groups.length; d++) {
      const group = pick(groups);
      for (let r = 0; r < group.length; r++) sample.push(pick(group));
    }
    medians[i] = median(sample);
  }
  return { low: percentile(Array.from(medians), 5), high: percentile(Array.from(medians), 95) };
}

/** A small seeded generator (mulberry32): the bootstrap must not depend on Math.random's state. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
