/**
 * Weighted round-robin, exact: over every cycle each endpoint gets exactly its weight's share,
 * interleaved rather than in bursts (nginx's smooth weighted round-robin: weights 5,1,1 give
 * a a b a c a a, not a a a a a b c). The cycle is computed once per snapshot so a pick is an
 * index increment; a cycle too long to store (huge, coprime weights) is walked live instead.
 */
import type { MeshRequest } from '../core/service.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import type { Picker } from './picker.ts';
import type { RandomSource } from './weighted-sampler.ts';

const MAX_CYCLE = 65_536;

export class RoundRobinPicker implements Picker {
  readonly #endpoints: readonly LiveEndpoint[];
  readonly #weights: readonly number[];
  readonly #cycle: readonly LiveEndpoint[] | undefined;
  /** Live smooth-WRR state, used only when the cycle is not stored. */
  readonly #current: Float64Array;
  readonly #total: number;
  #next: number;

  constructor(endpoints: readonly LiveEndpoint[], random: RandomSource) {
    this.#endpoints = endpoints;
    const whole = endpoints.map((e) => Math.max(1, Math.round(e.weight)));
    const divisor = whole.reduce(gcd, 0);
    this.#weights = whole.map((w) => w / divisor);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
    this.#current = new Float64Array(endpoints.length);
    if (this.#total <= MAX_CYCLE) {
      const cycle: LiveEndpoint[] = [];
      for (let i = 0; i < this.#total; i++) cycle.push(this.#step());
      this.#cycle = cycle;
    } else {
      this.#cycle = undefined;
    }
    // A random starting point, so many clients that start together do not all hit endpoint 0 first.
    this.#next = Math.floor(random() * (this.#cycle?.length ?? 1));
  }

  get size(): number {
    return this.#endpoints.length;
  }

  pick(_request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint {
    let endpoint = this.#advance();
    if (endpoint !== avoid || this.#endpoints.length < 2) return endpoint;
    // Bounded: within one cycle every endpoint appears.
    for (let i = 0; i < this.#total && endpoint === avoid; i++) endpoint = this.#advance();
    return endpoint;
  }

  #advance(): LiveEndpoint {
    const cycle = this.#cycle;
    if (cycle === undefined) return this.#step();
    const endpoint = cycle[this.#next]!;
    this.#next = this.#next + 1 === cycle.length ? 0 : this.#next + 1;
    return endpoint;
  }

  /** One step of smooth weighted round-robin. */
  #step(): LiveEndpoint {
    const current = this.#current;
    let best = 0;
    for (let i = 0; i < current.length; i++) {
      current[i] = current[i]! + this.#weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best] = current[best]! - this.#total;
    return this.#endpoints[best]!;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}
