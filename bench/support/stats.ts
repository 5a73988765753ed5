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

/**
 * Fewer draws than this and no verdict is given: the bootstrap resamples the draws first, and
 * with two or three of them it can only ever pick those few processes, so its interval says
 * how those processes differ from one another, not how a fresh one would.
 */
const MIN_VERDICT_DRAWS = 4;

/**
 * A goal's verdict from the 90% interval of a median (medianInterval): met or NOT met only when
 * the interval lies wholly on one side of the goal and there were MIN_VERDICT_DRAWS draws, else
 * undecided. `better` says which side of the goal meets it.
 */
export function goalVerdict(interval: { low: number; high: number }, goal: number, better: 'higher' | 'lower', draws: number): string {
  if (draws < MIN_VERDICT_DRAWS) return `undecided (${draws} draw${draws === 1 ? '' : 's'} of fresh processes: a verdict takes at least ${MIN_VERDICT_DRAWS})`;
  const [meets, misses] = better === 'higher' ? [interval.low >= goal, interval.high < goal] : [interval.high <= goal, interval.low > goal];
  if (meets) return 'met';
  if (misses) return 'NOT met';
  return 'undecided (the interval straddles it: more draws, or a quieter machine)';
}

/** A warning when the A/A control's interval leaves out what two identical processes must give (1x, or +0). */
export function controlBias(interval: { low: number; high: number }, neutral: number, shown: string): string {
  if (interval.low <= neutral && interval.high >= neutral) return '';
  return ` WARNING: the A/A interval leaves out ${shown}, so two identical processes differ here: the bench is biased and this verdict is not to be trusted`;
}
