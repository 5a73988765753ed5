/** Consul entries served as a lookup would (`${kind}/${name}` → body; anything else a 404), for the translation tests. */
import { type ConsulEntryKind, translateConsulEntries } from '../../src/routing/consul-entries.ts';
import type { RoutingModel } from '../../src/routing/route-types.ts';
import { configIssuesOf } from '../support/mesh-error.ts';

export type Json = Record<string, unknown>;

export function translate(service: string, ...entries: Json[]): RoutingModel {
  const byKey = new Map(entries.map((e) => [`${String(e.Kind)}/${String(e.Name)}`, e]));
  return translateConsulEntries(service, (kind: ConsulEntryKind, name: string) => byKey.get(`${kind}/${name}`));
}

/** The issues a translation that must be refused raises. */
export const invalid = (service: string, ...entries: Json[]): { path: string; message: string }[] => configIssuesOf(() => translate(service, ...entries));
