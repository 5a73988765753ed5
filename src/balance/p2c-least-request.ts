/**
 * Power of two choices over in-flight requests (Envoy's LEAST_REQUEST): reacts to queueing
 * only, not to latency, so it needs no clock and no decay; the better choice when latencies
 * differ by request more than by endpoint.
 */
import type { Picker } from './picker.ts';
import { TwoChoicesPicker } from './two-choices.ts';
import type { WeightedSampler } from './weighted-sampler.ts';

export function p2cLeastRequestPicker(sampler: WeightedSampler): Picker {
  return new TwoChoicesPicker(sampler, (a, b) => b.inFlight < a.inFlight);
}
