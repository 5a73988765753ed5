/**
 * The default balancer, as in Finagle and linkerd2-proxy: power of two choices over the
 * peak-EWMA load (latency estimate × (in-flight + 1)). It steers away from a slow endpoint
 * within one response and from a queueing one as soon as requests pile up on it.
 */
import type { Clock } from '../core/clock.ts';
import type { Picker } from './picker.ts';
import { peakEwmaLoad } from './peak-ewma.ts';
import { TwoChoicesPicker } from './two-choices.ts';
import type { WeightedSampler } from './weighted-sampler.ts';

export function p2cEwmaPicker(sampler: WeightedSampler, clock: Clock, decayMs: number): Picker {
  // One closure per snapshot, none per pick.
  return new TwoChoicesPicker(sampler, (a, b) => {
    const now = clock.now();
    return peakEwmaLoad(b, now, decayMs) < peakEwmaLoad(a, now, decayMs);
  });
}
