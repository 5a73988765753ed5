/**
 * Weighted random: no state, no coordination. Useful as a baseline and when load feedback is
 * meaningless (very short calls behind a shared queue).
 */
import type { MeshRequest } from '../core/service.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import type { Picker } from './picker.ts';
import type { WeightedSampler } from './weighted-sampler.ts';

export class RandomPicker implements Picker {
  readonly #sampler: WeightedSampler;

  constructor(sampler: WeightedSampler) {
    this.#sampler = sampler;
  }

  get size(): number {
    return this.#sampler.size;
  }

  pick(_request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint {
    return this.#sampler.sampleOther(avoid);
  }
}
