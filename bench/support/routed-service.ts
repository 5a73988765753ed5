/**
 * The routed service the routing benchmarks call (issue 11): 20 routes, the last one matching
 * any path, the 19 before it failing the ways route tables usually do (another path prefix,
 * another method, a header the call lacks or has with another value), and on the last a 3-way
 * weighted split (50/30/20) over subsets selected by tag. bench/overhead.ts's routed row and
 * bench/routing-overhead.ts both build it here, so their figures are of one table.
 */
export interface TaggedEndpoint {
  readonly address: string;
  readonly tags: readonly string[];
}

/** The service's policy over `endpoints` (each subset, v1..v3, selects the endpoints with its tag). */
export function routedService(endpoints: readonly TaggedEndpoint[]): Record<string, unknown> {
  const failing = Array.from({ length: 19 }, (_, i) => {
    const kind = i % 3;
    const match = kind === 0 ? { pathPrefix: `/other-${i}` } : kind === 1 ? { methods: ['POST'], pathPrefix: '/' } : { headers: { 'x-variant': `v${i}` } };
    return { name: `r${i}`, match, to: [{ subset: 'v1' }] };
  });
  const split = { name: 'split', match: { pathPrefix: '/' }, to: [{ subset: 'v1', weight: 50 }, { subset: 'v2', weight: 30 }, { subset: 'v3', weight: 20 }] };
  return { endpoints, subsets: { v1: { tags: ['v1'] }, v2: { tags: ['v2'] }, v3: { tags: ['v3'] } }, routes: [...failing, split] };
}
