/**
 * Consistent hashing (Karger; Envoy's RING_HASH): each endpoint owns many points on a 32-bit
 * ring, a request goes to the owner of the first point at or after its key's hash. When one
 * of N endpoints leaves, only the keys it owned move (about 1/N), which keeps caches warm.
 *
 * NOTE: an endpoint's points depend only on its own id and weight (`id#0`, `id#1`, …, a fixed
 * number per unit of weight), never on who else is in the set; scaling points to the set's
 * total weight would shift every endpoint's points on each membership change and move far
 * more keys than the leaver's. The per-unit count doubles only to reach `minRingSize`.
 *
 * The key is the header named by `hashOn: 'header:<name>'` when present, else the call's `hashKey`. A call
 * without a key gets a weighted random endpoint.
 */
import type { MeshRequest } from '../core/service.ts';
import type { BalancerPolicy } from '../config/policy.ts';
import type { LiveEndpoint } from './live-endpoint.ts';
import type { Picker } from './picker.ts';
import { hashString } from './hash.ts';
import type { WeightedSampler } from './weighted-sampler.ts';

/** Points per unit of weight before scaling up to the minimum ring size (ketama uses 160 per server). */
const POINTS_PER_WEIGHT = 160;
/** Keeps huge weights (Consul allows up to 65535) from building a ring of millions of points. */
const MAX_RING_SIZE = 1 << 20;

type RingHashPolicy = Extract<BalancerPolicy, { policy: 'ring-hash' }>;

export class RingHashPicker implements Picker {
  readonly #hashes: Uint32Array;
  readonly #owners: LiveEndpoint[];
  readonly #header: string | undefined;
  readonly #sampler: WeightedSampler;

  constructor(endpoints: readonly LiveEndpoint[], policy: RingHashPolicy, sampler: WeightedSampler) {
    this.#sampler = sampler;
    this.#header = policy.hashOn?.startsWith('header:') ? policy.hashOn.slice('header:'.length).toLowerCase() : undefined;
    const totalWeight = endpoints.reduce((sum, e) => sum + e.weight, 0);
    let perWeight = POINTS_PER_WEIGHT;
    while (perWeight * totalWeight < policy.minRingSize) perWeight *= 2;
    while (perWeight > 1 && perWeight * totalWeight > MAX_RING_SIZE) perWeight /= 2;
    const points: { hash: number; owner: LiveEndpoint }[] = [];
    for (const endpoint of endpoints) {
      const count = Math.max(1, Math.round(endpoint.weight * perWeight));
      for (let i = 0; i < count; i++) points.push({ hash: hashString(`${endpoint.address.id}#${i}`), owner: endpoint });
    }
    // Ties (rare) are broken by id so every process builds the same ring.
    points.sort((a, b) => a.hash - b.hash || (a.owner.address.id < b.owner.address.id ? -1 : 1));
    this.#hashes = Uint32Array.from(points, (p) => p.hash);
    this.#owners = points.map((p) => p.owner);
  }

  get size(): number {
    return this.#sampler.size;
  }

  pick(request: MeshRequest, avoid: LiveEndpoint | undefined): LiveEndpoint {
    const key = this.#keyOf(request);
    if (key === undefined) return this.#sampler.sampleOther(avoid);
    const hashes = this.#hashes;
    const target = hashString(key);
    let low = 0;
    let high = hashes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (hashes[mid]! < target) low = mid + 1;
      else high = mid;
    }
    const start = low === hashes.length ? 0 : low;
    const owner = this.#owners[start]!;
    if (owner !== avoid || this.size < 2) return owner;
    // Walk on to the next distinct owner: where this key would go if `avoid` left the ring.
    const owners = this.#owners;
    let i = start;
    for (;;) {
      i = i + 1 === owners.length ? 0 : i + 1;
      if (owners[i] !== avoid) return owners[i]!;
    }
  }

  #keyOf(request: MeshRequest): string | undefined {
    if (this.#header === undefined) return request.hashKey;
    const value = request.headers[this.#header];
    if (value === undefined) return request.hashKey;
    return typeof value === 'string' ? value : value[0];
  }
}
