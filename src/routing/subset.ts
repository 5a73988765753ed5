/**
 * Subsets: named selections of one service's endpoints (`subsets: { v2: { tags: ['v2'] } }`,
 * a Consul resolver's `Subsets.<n>.Filter`). A route target names a subset; the balancer for
 * that target balances over the endpoints the subset selects. Selection runs when membership
 * changes, never per call, so it may allocate.
 *
 * - `{ tags: [...] }`: every tag must be on the endpoint (exact, case-sensitive, as bexpr's
 *   `contains` is).
 * - `{ meta: { k: v } }`: every key must have exactly that value. Tags and meta may be combined
 *   (both must hold).
 * - `{ filter: '<bexpr>' }`: a Consul filter ('' selects every endpoint, as in Consul), evaluated against the fields an endpoint keeps
 *   (bexpr-fields.ts ENDPOINT_FIELDS: Service.Tags, Service.Meta, Service.Address, Service.Port,
 *   Service.Weights.Passing); a filter naming any other field is refused at compile time.
 * - `onlyPassing` (Consul's `OnlyPassing`) is carried for the integration: whether an endpoint
 *   whose checks only warn belongs needs the health status discovery has, which an
 *   EndpointAddress does not carry today (the consul resolver's `passingOnly` decides it).
 */
import type { ConfigIssue } from '../core/errors.ts';
import type { EndpointAddress } from '../core/endpoint.ts';
import { configInvalid } from '../config/config-error.ts';
import { compileBexpr } from './bexpr.ts';
import { ENDPOINT_FIELDS } from './bexpr-fields.ts';

export type SubsetSpec =
  | { readonly tags?: readonly string[]; readonly meta?: Readonly<Record<string, string>>; readonly onlyPassing?: boolean }
  /** `unevaluable`: a Consul Filter on fields endpoints do not keep (reported as not honoured): it selects no endpoint. */
  | { readonly filter: string; readonly onlyPassing?: boolean; readonly unevaluable?: true };

export interface Subset {
  readonly name: string;
  readonly onlyPassing: boolean;
  accepts(address: EndpointAddress): boolean;
}

/** The subset's endpoints, in discovery order. */
export function selectEndpoints(subset: Subset, endpoints: readonly EndpointAddress[]): EndpointAddress[] {
  return endpoints.filter((e) => subset.accepts(e));
}

/** Compiles one subset; an issue (at `path`) instead when the spec cannot be honoured. */
export function compileSubset(name: string, spec: SubsetSpec, path: string): { subset: Subset } | { issue: ConfigIssue } {
  const onlyPassing = spec.onlyPassing === true;
  if ('filter' in spec) {
    // Consul: a subset without a filter is every instance.
    if (spec.filter === '') return { subset: { name, onlyPassing, accepts: () => true } };
    // Never an endpoint the filter might not have selected: its calls fail over, or find none.
    if (spec.unevaluable === true) return { subset: { name, onlyPassing, accepts: () => false } };
    const compiled = compileBexpr(spec.filter, ENDPOINT_FIELDS);
    if (!compiled.ok) return { issue: { path: `${path}.filter`, message: `${JSON.stringify(spec.filter)} cannot be evaluated on endpoints: ${compiled.message}` } };
    const predicate = compiled.predicate;
    return { subset: { name, onlyPassing, accepts: (address) => predicate(endpointView(address)) } };
  }
  const tags = spec.tags ?? [];
  const meta = Object.entries(spec.meta ?? {});
  if (tags.length === 0 && meta.length === 0) return { issue: { path, message: 'a subset needs tags, meta or a filter (a subset of everything is the service itself)' } };
  return {
    subset: {
      name,
      onlyPassing,
      accepts: (address) => tags.every((tag) => address.tags.includes(tag)) && meta.every(([key, value]) => Object.hasOwn(address.meta, key) && address.meta[key] === value),
    },
  };
}

/** Compiles a service's subsets; throws MESH_CONFIG_INVALID listing every bad one. */
export function compileSubsets(specs: Readonly<Record<string, SubsetSpec>>, path: string): ReadonlyMap<string, Subset> {
  const subsets = new Map<string, Subset>();
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const result = compileSubset(name, spec, `${path}.${name}`);
    if ('issue' in result) issues.push(result.issue);
    else subsets.set(name, result.subset);
  }
  if (issues.length > 0) throw configInvalid(issues, 'The subsets');
  return subsets;
}

/** An endpoint as the Consul health entry fields it keeps, for bexpr. */
function endpointView(address: EndpointAddress): unknown {
  return { Service: { Tags: address.tags, Meta: address.meta, Address: address.host, Port: address.port, Weights: { Passing: address.weight } } };
}
