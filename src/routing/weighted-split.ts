/**
 * A route's weighted targets (`to: [{ subset: 'v2', weight: 10 }, …]`, a Consul splitter's
 * `Splits`), with Consul's arithmetic so a split means the same here as in Consul: weights are
 * percentages with 0.01 resolution, scaled to integers out of 10000 exactly as Consul's
 * `scaleWeight` does (float32: `round(float32(w) * 100)`, so 99.1 is 9910), and the scaled
 * weights must sum to exactly 10000 (DCSTRUCT `Validate`). When splits are composed (a split
 * to a service that splits again, flattened as Consul's chain compiler does), each product is
 * rounded down to 0.01% and the remainder goes to the FIRST split (DCSTRUCT: "If the split is
 * within epsilon of 100 then the remainder is attributed to the FIRST split").
 *
 * A pick takes one integer draw in [0, 10000) from the injected source (integers, because V8
 * boxes a double returned through a call: xorshift-random.ts) and walks a cumulative
 * Uint16Array: no allocation. A weight of 0 is allowed (a target drained to nothing keeps its place) and is
 * never picked.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from '../config/config-error.ts';
import type { IntegerDraw } from './xorshift-random.ts';

/** 100% in units of 0.01%. */
export const SPLIT_SCALE = 10_000;

/** Consul's `scaleWeight`: a percentage to units of 0.01%, in float32 as Go computes it. */
export function scaleWeight(percent: number): number {
  return Math.round(Math.fround(Math.fround(percent) * 100));
}

/** The issue for scaled weights that do not sum to 100%, in Consul's words (`%f` of a float32). */
export function splitSumIssue(scaled: readonly number[], path: string): ConfigIssue | undefined {
  const sum = scaled.reduce((a, b) => a + b, 0);
  if (sum === SPLIT_SCALE) return undefined;
  return { path, message: `the sum of all split weights must be 100, not ${Math.fround(Math.fround(sum) / 100).toFixed(6)}` };
}

/** Issues for percentages that are not numbers in [0, 100], one per bad weight. */
export function weightIssues(percents: readonly number[], path: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  percents.forEach((weight, i) => {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 100) {
      issues.push({ path: `${path}[${i}].weight`, message: `expected a percentage from 0 to 100, got ${JSON.stringify(weight)}` });
    }
  });
  return issues;
}

export interface ScaledTarget<T> {
  readonly target: T;
  /** Units of 0.01%; all of a split's sum to SPLIT_SCALE. */
  readonly scaled: number;
}

export class WeightedSplit<T> {
  readonly targets: readonly ScaledTarget<T>[];
  readonly #values: readonly T[];
  /** bounds[i]: first draw (0…9999) past target i. */
  readonly #bounds: Uint16Array;

  /** From percentages; throws MESH_CONFIG_INVALID at `path` unless they are valid and sum to 100. */
  static fromPercent<T>(targets: readonly { readonly target: T; readonly weight: number }[], path: string): WeightedSplit<T> {
    const percents = targets.map((t) => t.weight);
    const issues = weightIssues(percents, path);
    if (targets.length === 0) issues.push({ path, message: 'no splits configured' });
    const scaled = percents.map(scaleWeight);
    const sum = issues.length === 0 ? splitSumIssue(scaled, path) : undefined;
    if (sum !== undefined) issues.push(sum);
    if (issues.length > 0) throw configInvalid(issues, 'The weighted targets');
    return new WeightedSplit(targets.map((t, i) => ({ target: t.target, scaled: scaled[i]! })));
  }

  /** From weights already scaled and checked (summing to SPLIT_SCALE). */
  constructor(targets: readonly ScaledTarget<T>[]) {
    const sum = targets.reduce((a, t) => a + t.scaled, 0);
    if (targets.length === 0 || sum !== SPLIT_SCALE || targets.some((t) => !Number.isInteger(t.scaled) || t.scaled < 0)) {
      throw new RangeError(`scaled split weights must be non-negative integers summing to ${SPLIT_SCALE}, got ${targets.map((t) => t.scaled).join('+')}`);
    }
    this.targets = targets;
    this.#values = targets.map((t) => t.target);
    this.#bounds = new Uint16Array(targets.length);
    let bound = 0;
    targets.forEach((t, i) => {
      bound += t.scaled;
      this.#bounds[i] = bound;
    });
  }

  /** One target by weight; `draw` returns an integer in [0, SPLIT_SCALE). Allocates nothing. */
  pick(draw: IntegerDraw): T {
    const drawn = draw();
    const bounds = this.#bounds;
    for (let i = 0; i < bounds.length; i++) if (drawn < bounds[i]!) return this.#values[i]!;
    return this.#values[this.#values.length - 1]!; // a draw out of range (a faulty source): the last
  }
}

/**
 * Flattens splits of splits: each outer target either stays (`inner` undefined) or is replaced
 * by its inner split's targets at outer × inner weight, rounded down to 0.01% with the
 * remainder added to the first target (Consul's rule).
 */
export function flattenSplits<T>(outer: readonly ScaledTarget<T>[], inner: (target: T) => readonly ScaledTarget<T>[] | undefined): ScaledTarget<T>[] {
  const flat: { target: T; scaled: number }[] = [];
  for (const o of outer) {
    const nested = inner(o.target);
    if (nested === undefined) flat.push({ target: o.target, scaled: o.scaled });
    else for (const n of nested) flat.push({ target: n.target, scaled: Math.floor((o.scaled * n.scaled) / SPLIT_SCALE) });
  }
  const remainder = SPLIT_SCALE - flat.reduce((a, t) => a + t.scaled, 0);
  if (flat.length > 0) flat[0]!.scaled += remainder;
  return flat;
}
