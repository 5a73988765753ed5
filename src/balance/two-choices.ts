/**
 * Power of two choices (Mitzenmacher): sample two distinct endpoints by weight, send to the
 * less loaded. Nearly as good as scanning every endpoint for the least loaded, yet O(1), and
 * it avoids the herd effect of everyone choosing the single least-loaded endpoint.
 * The load comparison is the only difference between p2c-ewma and p2c-least-request.
 *
 * Weights act through sampling (a heavier endpoint is a candidate more often) and loads are
 * compared as they are, so at equal load traffic splits in proportion to weight.
 */
import type { MeshRequest } from '../core/service.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import type { Picker } from './picker.ts';
import type { WeightedSampler } from './weighted-sampler.ts';

/** True when `b` is less loaded than `a` (compared as a pair, so shared inputs are read once). */
export type LessLoaded = (a: LiveEndpoint, b: LiveEndpoint) => boolean;

export class TwoChoicesPicker implements Picker {
  readonly #sampler: WeightedSampler;
  readonly #lessLoaded: LessLoaded;

  constructor(sampler: WeightedSampler, lessLoaded: LessLoaded) {
    this.#sampler = sampler;
    this.#lessLoaded = lessLoaded;
  }

  get size(): number {
    return this.#sampler.size;
  }

  pick(_request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint {
    const sampler = this.#sampler;
    const first = sampler.sampleOther(avoid);
    if (sampler.size < 2) return first;
    let second = sampler.sample();
    // NOTE: two distinct candidates, or the less loaded one is "chosen" against itself and a
    // slow endpoint gets 1/n² of the traffic it should not get at all.
    for (let tries = 0; (second === first || second === avoid) && tries < 16; tries++) second = sampler.sample();
    if (second === first || second === avoid) return first;
    // Ties go to `first`, itself a random sample, so ties split evenly.
    return this.#lessLoaded(first, second) ? second : first;
  }
}
