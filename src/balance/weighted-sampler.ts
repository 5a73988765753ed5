/**
 * O(1) weighted random choice (Vose's alias method), built once per picker snapshot. Every
 * picker that samples (random, both p2c variants, ring-hash without a key) shares it, so
 * endpoint weights mean the same thing everywhere: an endpoint of weight 3 is sampled three
 * times as often as one of weight 1. With equal weights it degenerates to one multiply.
 */
import type { LiveEndpoint } from './live-endpoint.ts';

export type RandomSource = () => number;

export class WeightedSampler {
  readonly endpoints: readonly LiveEndpoint[];
  readonly #random: RandomSource;
  /** Undefined when all weights are equal: a plain uniform index is exact then. */
  readonly #probability: Float64Array | undefined;
  readonly #alias: Uint32Array | undefined;

  constructor(endpoints: readonly LiveEndpoint[], random: RandomSource) {
    this.endpoints = endpoints;
    this.#random = random;
    const n = endpoints.length;
    const first = n > 0 ? endpoints[0]!.weight : 1;
    if (endpoints.every((e) => e.weight === first)) {
      this.#probability = undefined;
      this.#alias = undefined;
      return;
    }
    let total = 0;
    for (const endpoint of endpoints) total += endpoint.weight;
    const probability = new Float64Array(n);
    const alias = new Uint32Array(n);
    const scaled = endpoints.map((e) => (e.weight * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const s = small.pop()!;
      const l = large.pop()!;
      probability[s] = scaled[s]!;
      alias[s] = l;
      scaled[l] = scaled[l]! + scaled[s]! - 1;
      (scaled[l]! < 1 ? small : large).push(l);
    }
    for (const i of large) probability[i] = 1;
    for (const i of small) probability[i] = 1;
    this.#probability = probability;
    this.#alias = alias;
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** A weighted random index; the caller ensures size > 0. */
  sampleIndex(): number {
    const u = this.#random() * this.endpoints.length;
    const i = Math.floor(u);
    if (this.#probability === undefined) return i;
    return u - i < this.#probability[i]! ? i : this.#alias![i]!;
  }

  sample(): LiveEndpoint {
    return this.endpoints[this.sampleIndex()]!;
  }

  /**
   * A weighted sample that is not `avoid` (when another endpoint exists). Rejection sampling
   * ends quickly unless `avoid` carries nearly all the weight; the bounded loop then falls
   * back to the first other endpoint.
   */
  sampleOther(avoid: LiveEndpoint | undefined): LiveEndpoint {
    const candidate = this.sample();
    if (candidate !== avoid || this.endpoints.length < 2) return candidate;
    for (let tries = 0; tries < 16; tries++) {
      const other = this.sample();
      if (other !== avoid) return other;
    }
    return this.endpoints[0] === avoid ? this.endpoints[1]! : this.endpoints[0]!;
  }
}
