/**
 * Each example of Consul's config-entry docs, written to the emulator as the docs give it and
 * followed by real calls to loopback instances registered in Consul: meshlet routes them as
 * the docs say Consul does, or reports at its field path what it cannot honour. One test per
 * example, naming it. Sources (hashicorp/consul, website/content/docs/connect/config-entries/):
 * ROUTERDOC service-router.mdx @70c22618 "Examples"; SPLITTERDOC service-splitter.mdx @f7ea1a4f
 * "Examples"; RESOLVERDOC service-resolver.mdx @e2d9d399 "Examples". SPLITTERDOC "Two subsets
 * of same service" with RESOLVERDOC "Filter on service version" (the 90/10 canary) is in
 * routing-consul.test.ts; the Enterprise-only namespace failovers are not run (no namespaces).
 */
import assert from 'node:assert/strict';
import { setImmediate } from 'node:timers/promises';
import { beforeEach, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { consulForTests } from '../support/consul.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { registrationOf } from './consul-discovery-harness.ts';

type Json = Record<string, unknown>;
interface Served {
  port: number;
  status: number;
  headers: Record<string, string | string[] | undefined>;
}

describe("Consul's documented config-entry examples, routed in-process", () => {
  const suite = consulSuite(consulForTests);
  /** The entries this test wrote, as `kind/name` (the keys state() lists under consulEntries.entries). */
  const written = new Set<string>();
  beforeEach(() => written.clear());
  const put = async (entry: Json): Promise<void> => {
    const res = await call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    assert.equal(res.status, 200, res.body);
    written.add(`${String(entry.Kind)}/${String(entry.Name)}`);
  };
  /** What state() shows of `name`'s Consul entries: the keys in use and the fields not honoured. */
  const consulEntriesOf = (mesh: Mesh, name: string): { entries?: Iterable<string>; unsupported?: { path: string }[] } | undefined =>
    (mesh.state().services as Record<string, { consulEntries?: { entries?: Iterable<string>; unsupported?: { path: string }[] } }>)[name]!.consulEntries;
  const entriesOf = (mesh: Mesh, name: string): string[] => [...(consulEntriesOf(mesh, name)?.entries ?? [])];
  /**
   * The entry lists are shared by the suite's meshes: a new mesh may first hear the view from
   * before this test's writes. Waits until each service routes by the entries written for it
   * (read, then the service's runtime rebuilt: a turn later).
   */
  async function routedByWrites(mesh: Mesh, services: string[]): Promise<void> {
    for (const name of services) {
      const wanted = [...written].filter((key) => key.endsWith(`/${name}`));
      await eventually(() => wanted.every((key) => entriesOf(mesh, name).includes(key)), `${name} to route by ${wanted.join(', ')}`);
    }
    await setImmediate();
  }
  /** An instance of `service` in Consul (with `meta`, `tags`); `handler` may refuse some calls. */
  async function instance(service: string, id: string, extra: Json = {}, handler?: Parameters<typeof startBackend>[0]): Promise<Backend> {
    const backend = await suite.backend(() => startBackend(handler));
    await suite.consul.catalog.register(registrationOf(backend, service, id, extra));
    return backend;
  }
  /** A mesh calling each of `services` through Consul discovery (entries read by default). */
  const newMesh = async (...services: string[]): Promise<Mesh> =>
    suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services: Object.fromEntries(services.map((s) => [s, { discovery: { type: 'consul' as const } }])) } }));
  /** newMesh, once it routes by this test's entries (newMesh alone for entries it refuses: they are never in force). */
  const meshFor = async (...services: string[]): Promise<Mesh> => {
    const mesh = await newMesh(...services);
    await routedByWrites(mesh, services);
    return mesh;
  };
  async function send(mesh: Mesh, service: string, path = '/', headers: Record<string, string> = {}, method = 'GET'): Promise<Served> {
    const res = await mesh.client(service).request({ path, headers, method });
    const text = await res.body.text();
    return { port: res.statusCode === 200 ? (JSON.parse(text) as { port: number }).port : -1, status: res.statusCode, headers: res.headers };
  }
  const ports = async (count: number, one: () => Promise<Served>): Promise<number[]> => {
    const served: number[] = [];
    for (let i = 0; i < count; i++) served.push((await one()).port);
    return served;
  };
  const unsupported = (mesh: Mesh, name: string): string[] => (consulEntriesOf(mesh, name)?.unsupported ?? []).map((u) => u.path).sort();
  /** The entry lists are shared by the suite's meshes: a mesh may first hear the view from before the last write. */
  const reported = (mesh: Mesh, name: string, paths: string[]): Promise<void> =>
    eventually(() => JSON.stringify(unsupported(mesh, name)) === JSON.stringify(paths), `${name} to report ${paths.join(', ')}`);

  it('ROUTERDOC "Path prefix matching": /admin… goes to the admin service, everything else to web', async () => {
    const web = await instance('web', 'web-1');
    const admin = await instance('admin', 'admin-1');
    await put({ Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/admin' } }, Destination: { Service: 'admin' } }] });
    const mesh = await meshFor('web', 'admin');
    assert.deepEqual(await ports(3, () => send(mesh, 'web', '/admin/users')), [admin.port, admin.port, admin.port]);
    assert.equal((await send(mesh, 'web', '/administrator')).port, admin.port, "a plain string prefix, as Envoy's prefix match is");
    assert.deepEqual(await ports(3, () => send(mesh, 'web', '/home')), [web.port, web.port, web.port]);
  });

  it('ROUTERDOC "Match a header and query parameter": x-debug: 1 in a header or the query goes to the canary subset only', async () => {
    const stable = await instance('shop', 'shop-stable');
    const canary = await instance('shop', 'shop-canary', { Tags: ['canary'] });
    // The docs' router names a `canary` subset; a resolver defines it (as RESOLVERDOC's subsets do).
    await put({ Kind: 'service-resolver', Name: 'shop', Subsets: { canary: { Filter: 'Service.Tags contains canary' } } });
    const canaryRoute = { Service: 'shop', ServiceSubset: 'canary' };
    await put({
      Kind: 'service-router',
      Name: 'shop',
      Routes: [
        { Match: { HTTP: { Header: [{ Name: 'x-debug', Exact: '1' }] } }, Destination: canaryRoute },
        { Match: { HTTP: { QueryParam: [{ Name: 'x-debug', Exact: '1' }] } }, Destination: canaryRoute },
      ],
    });
    const mesh = await meshFor('shop');
    assert.deepEqual(new Set(await ports(10, () => send(mesh, 'shop', '/', { 'x-debug': '1' }))), new Set([canary.port]));
    assert.deepEqual(new Set(await ports(10, () => send(mesh, 'shop', '/items?page=2&x-debug=1'))), new Set([canary.port]));
    // Everything else: the default route, to the whole service (both instances).
    assert.deepEqual(new Set(await ports(40, () => send(mesh, 'shop', '/items?x-debug=0', { 'x-debug': '2' }))), new Set([stable.port, canary.port]));
  });

  it('ROUTERDOC "gRPC routing": the exact method path goes to invoice-generator, other billing methods stay', async () => {
    const billing = await instance('billing', 'billing-1');
    const invoices = await instance('invoice-generator', 'invoice-1');
    await put({ Kind: 'service-router', Name: 'billing', Routes: [{ Match: { HTTP: { PathExact: '/mycompany.BillingService/GenerateInvoice' } }, Destination: { Service: 'invoice-generator' } }] });
    const mesh = await meshFor('billing', 'invoice-generator');
    assert.equal((await send(mesh, 'billing', '/mycompany.BillingService/GenerateInvoice', {}, 'POST')).port, invoices.port);
    assert.equal((await send(mesh, 'billing', '/mycompany.BillingService/GenerateInvoices', {}, 'POST')).port, billing.port);
    assert.equal((await send(mesh, 'billing', '/mycompany.BillingService/ListInvoices', {}, 'POST')).port, billing.port);
  });

  it('ROUTERDOC "Retry logic" (HCL form): /coffees to products with 5 retries, /orders to procurement with 3; each route its own', async () => {
    // Each instance answers its first four requests with a reset connection.
    const resetting = (): Parameters<typeof startBackend>[0] => {
      let seen = 0;
      return (req, res) => {
        if (++seen <= 4) req.socket.destroy();
        else res.end(JSON.stringify({ port: req.socket.localPort }));
      };
    };
    await instance('orders', 'orders-1');
    const products = await instance('products', 'products-1', {}, resetting());
    const procurement = await instance('procurement', 'procurement-1', {}, resetting());
    const destination = (service: string, timeout: string, retries: number): Json => ({ Service: service, RequestTimeout: timeout, NumRetries: retries, RetryOnConnectFailure: true, RetryOn: ['reset'] });
    await put({
      Kind: 'service-router',
      Name: 'orders',
      Routes: [
        { Match: { HTTP: { PathPrefix: '/coffees' } }, Destination: destination('products', '15s', 5) },
        { Match: { HTTP: { PathPrefix: '/orders' } }, Destination: destination('procurement', '10s', 3) },
      ],
    });
    const mesh = await meshFor('orders', 'products', 'procurement');
    assert.equal((await send(mesh, 'orders', '/coffees/1')).port, products.port, 'six tries get past four resets');
    assert.equal(products.received.length, 5);
    const error = await send(mesh, 'orders', '/orders/1').then(() => undefined, (e: { code?: string; message?: string }) => e);
    assert.equal(error?.code, 'MESH_UPSTREAM_FAILED');
    assert.match(error?.message ?? '', /failed after 4 attempts/);
    assert.equal(procurement.received.length, 4, 'four tries (3 retries), all reset');
  });

  it('SPLITTERDOC "Two different services": web and web-rewrite take half each', async () => {
    const web = await instance('site', 'site-1');
    const rewrite = await instance('site-rewrite', 'site-rewrite-1');
    await put({ Kind: 'service-splitter', Name: 'site', Splits: [{ Weight: 50 }, { Weight: 50, Service: 'site-rewrite' }] });
    const mesh = await meshFor('site', 'site-rewrite');
    const served = await ports(600, () => send(mesh, 'site'));
    const share = served.filter((p) => p === rewrite.port).length / served.length;
    assert.ok(Math.abs(share - 0.5) < 0.08, `site-rewrite took ${(share * 100).toFixed(1)}%`);
    assert.ok(served.every((p) => p === web.port || p === rewrite.port));
  });

  it('SPLITTERDOC "Set HTTP Headers": each split sets X-Web-Version on the responses it serves', async () => {
    const v1 = await instance('app', 'app-v1', { Meta: { version: 'v1' } });
    const v2 = await instance('app', 'app-v2', { Meta: { version: 'v2' } });
    await put({ Kind: 'service-resolver', Name: 'app', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' } } });
    const split = (weight: number, subset: string): Json => ({ Weight: weight, ServiceSubset: subset, ResponseHeaders: { Set: { 'X-Web-Version': subset } } });
    await put({ Kind: 'service-splitter', Name: 'app', Splits: [split(90, 'v1'), split(10, 'v2')] });
    const mesh = await meshFor('app');
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { port, headers } = await send(mesh, 'app');
      const version = port === v1.port ? 'v1' : port === v2.port ? 'v2' : '?';
      assert.equal(headers['x-web-version'], version);
      seen.add(version);
    }
    assert.deepEqual([...seen].sort(), ['v1', 'v2']);
  });

  it('RESOLVERDOC "Filter on service version": every call goes to the DefaultSubset v1', async () => {
    const v1 = await instance('catalog', 'catalog-v1', { Meta: { version: 'v1' } });
    await instance('catalog', 'catalog-v2', { Meta: { version: 'v2' } });
    await put({ Kind: 'service-resolver', Name: 'catalog', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' } } });
    const mesh = await meshFor('catalog');
    assert.deepEqual(new Set(await ports(30, () => send(mesh, 'catalog'))), new Set([v1.port]));
  });

  it('RESOLVERDOC "Resolve virtual upstreams": a redirect to another datacenter is reported at its path, not followed silently', async () => {
    await instance('web-dc2', 'web-dc2-1');
    await put({ Kind: 'service-resolver', Name: 'web-dc2', Redirect: { Service: 'web', Datacenter: 'dc2' } });
    const mesh = await meshFor('web-dc2');
    // The redirect's service is not one this mesh calls either: reported too (its calls would fail MESH_UNKNOWN_SERVICE).
    await reported(mesh, 'web-dc2', ['service-resolver/web-dc2.Redirect.Datacenter', 'targets/web']);
  });

  it('RESOLVERDOC "Service failover" and "Failover targets for federation and cluster peering": other datacenters and peers are reported, with the ConnectTimeout', { timeout: 20_000 }, async () => {
    await instance('fo', 'fo-1');
    await put({ Kind: 'service-resolver', Name: 'fo', ConnectTimeout: '15s', Failover: { v2: { Datacenters: ['dc2'] }, '*': { Datacenters: ['dc3', 'dc4'] } } });
    // Consul refuses a failover for a subset the resolver does not define (DCSTRUCT): meshlet too.
    const mesh = await newMesh('fo');
    const refused = new Promise<string[]>((resolve) => mesh.on('config-rejected', (event) => event.source === 'consul-entries:fo' && resolve(event.issues.map((i) => `${i.path}: ${i.message}`))));
    await put({ Kind: 'service-resolver', Name: 'fo', ConnectTimeout: '16s', Failover: { v2: { Datacenters: ['dc2'] }, '*': { Datacenters: ['dc3', 'dc4'] } } });
    assert.deepEqual(await refused, ['service-resolver/fo: Bad Failover["v2"]: not a valid subset']);
    assert.equal((mesh.state().services as Record<string, { routing: string | null }>).fo!.routing, null, 'the routing in force (none) stays');
    await put({ Kind: 'service-resolver', Name: 'fo2', ConnectTimeout: '15s', Failover: { '*': { Targets: [{ Datacenter: 'dc3' }, { Peer: 'peer-01' }] } } });
    await instance('fo2', 'fo2-1');
    const peered = await newMesh('fo2');
    await reported(peered, 'fo2', ['service-resolver/fo2.ConnectTimeout', 'service-resolver/fo2.Failover.*.Targets[0].Datacenter', 'service-resolver/fo2.Failover.*.Targets[1].Peer']);
  });

  it('RESOLVERDOC "Consistent load balancing": calls with one x-user-id stick to one instance (maglev reported as ring-hash)', async () => {
    const fleet = [await instance('users', 'users-1'), await instance('users', 'users-2'), await instance('users', 'users-3')];
    await put({ Kind: 'service-resolver', Name: 'users', LoadBalancer: { Policy: 'maglev', HashPolicies: [{ Field: 'header', FieldValue: 'x-user-id' }] } });
    const mesh = await meshFor('users');
    await reported(mesh, 'users', ['service-resolver/users.LoadBalancer.Policy']);
    const homes = new Set<number>();
    for (const user of ['ana', 'bo', 'cy', 'di', 'ed', 'flo']) {
      const served = new Set(await ports(8, () => send(mesh, 'users', '/', { 'x-user-id': user })));
      assert.equal(served.size, 1, `user ${user} was served by ${[...served].join(', ')}`);
      homes.add([...served][0]!);
    }
    assert.ok(homes.size > 1 && [...homes].every((p) => fleet.some((b) => b.port === p)), 'users spread over the instances');
  });
});
