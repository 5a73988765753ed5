/**
 * `/v1/health/service/:name` and `/v1/catalog/services` (HEALTHDOC, HEALTHGO, CATDOC, CATGO):
 * blocking reads over the catalog, in the JSON shape a Consul CE agent answers (the recorded
 * response in test/fixtures/consul/ is the reference).
 */
import { demand } from './acl.ts';
import { type BlockingOptions, blockingRead } from './blocking.ts';
import { type Catalog, type CheckRecord, type HealthEntry, NODE_NAME, type ServiceInstance } from './catalog.ts';
import type { Exchange, Reply, Route } from './exchange.ts';
import { HttpError } from './http-error.ts';

export function healthRoutes(catalog: Catalog, blocking: BlockingOptions): Route[] {
  return [
    { path: '/v1/health/service/', prefix: true, methods: { GET: (ex) => healthService(catalog, blocking, ex) } },
    { path: '/v1/catalog/services', prefix: false, methods: { GET: (ex) => catalogServices(catalog, blocking, ex) } },
  ];
}

function healthService(catalog: Catalog, blocking: BlockingOptions, ex: Exchange): Promise<Reply> {
  const name = ex.rest;
  if (name === '') throw new HttpError(400, 'Missing service name');
  const passing = passingParam(ex.params);
  demand(ex.identity, 'read');
  const tags = ex.params.getAll('tag');
  return blockingRead(ex, blocking, () => {
    const { entries, index } = catalog.health(name, tags);
    // Applied after the blocking query returns, as the HTTP agent does (HEALTHGO).
    const shown = passing ? filterNonPassing(entries) : entries;
    return { json: shown.map((e) => healthJson(catalog, e)), index };
  });
}

function catalogServices(catalog: Catalog, blocking: BlockingOptions, ex: Exchange): Promise<Reply> {
  demand(ex.identity, 'read');
  return blockingRead(ex, blocking, () => {
    const { services, index } = catalog.services();
    return { json: services, index };
  });
}

/** `?passing` is true when present and empty, else Go's ParseBool (HEALTHGO `getBoolQueryParam`). */
function passingParam(params: URLSearchParams): boolean {
  const value = params.get('passing');
  if (value === null) return false;
  if (value === '') return true;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new HttpError(400, 'Invalid value for ?passing');
}

/**
 * Drops instances with any check not passing, swapping each removed one with the tail as
 * Consul's `filterNonPassing` does, so the order of what remains is not preserved.
 */
function filterNonPassing(entries: readonly HealthEntry[]): HealthEntry[] {
  const out = [...entries];
  let n = out.length;
  for (let i = 0; i < n; i++) {
    if ((out[i] as HealthEntry).checks.every((c) => c.status === 'passing')) continue;
    out[i] = out[n - 1] as HealthEntry;
    n--;
    i--;
  }
  return out.slice(0, n);
}

export function healthJson(catalog: Catalog, entry: HealthEntry): Record<string, unknown> {
  return { Node: nodeJson(catalog), Service: serviceJson(entry.service), Checks: entry.checks.map((c) => checkJson(c, catalog)) };
}

function nodeJson(catalog: Catalog): Record<string, unknown> {
  const address = catalog.nodeAddress;
  return {
    ID: catalog.nodeId,
    Node: NODE_NAME,
    Address: address,
    Datacenter: catalog.datacenter,
    TaggedAddresses: { lan: address, lan_ipv4: address, wan: address, wan_ipv4: address },
    Meta: { 'consul-network-segment': '' },
    CreateIndex: catalog.nodeIndexes.createIndex,
    ModifyIndex: catalog.nodeIndexes.modifyIndex,
  };
}

function serviceJson(s: ServiceInstance): Record<string, unknown> {
  return {
    ID: s.id,
    Service: s.name,
    Tags: [...s.tags],
    Address: s.address,
    ...(s.taggedAddresses && { TaggedAddresses: s.taggedAddresses }),
    Meta: s.meta,
    Port: s.port,
    Weights: s.weights,
    EnableTagOverride: s.enableTagOverride,
    Proxy: { Mode: '', MeshGateway: {}, Expose: {} },
    Connect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  };
}

function checkJson(c: CheckRecord, catalog: Catalog): Record<string, unknown> {
  const service = c.serviceId === '' ? undefined : catalog.service(c.serviceId);
  return { ...checkFields(c, service?.tags ?? []), CreateIndex: c.createIndex, ModifyIndex: c.modifyIndex };
}

/** A check as Consul shows it, but for the raft indexes (the agent's own view has none). */
export function checkFields(c: CheckRecord, serviceTags: Iterable<string>): Record<string, unknown> {
  return {
    Node: NODE_NAME,
    CheckID: c.checkId,
    Name: c.name,
    Status: c.status,
    Notes: c.notes,
    Output: c.output,
    ServiceID: c.serviceId,
    ServiceName: c.serviceName,
    ServiceTags: [...serviceTags],
    Type: c.type,
    Interval: c.interval,
    Timeout: c.timeout,
    ExposedPort: 0,
    Definition: {},
  };
}
