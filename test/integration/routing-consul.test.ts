/**
 * Consul's own config entries routing a mesh's calls (issue 11), against the emulator (or a
 * real agent with CONSUL_HTTP_ADDR), with real loopback backends registered as instances with
 * meta: a service-resolver's subsets by Filter with a service-splitter over them (the canary
 * shape of SPLITTERDOC's and RESOLVERDOC's examples), a service-router's header and path
 * matches with a RequestTimeout, an entry change applied while calls flow, an entry Consul
 * would refuse reported at its path with the routing in force kept, and the precedence rule:
 * a service's own `routes` win over its entries. Entries are read by default for a
 * Consul-discovered service; discovery `configEntries: false` opts out.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh, type Mesh, type MeshConfig } from '../../src/index.ts';
import { consulForTests, emulatorOnly } from '../support/consul.ts';
import { call } from '../support/consul-emulator/wire-client.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { registrationOf } from './consul-discovery-harness.ts';

interface ServiceState {
  routing: string | null;
  routes?: { name: string; targets: { subset: string | null; weight: number }[] }[];
  consulEntries?: { entries: string[]; unsupported: { path: string }[] };
}

describe("routing by Consul's config entries", () => {
  const suite = consulSuite(consulForTests);
  const putEntry = async (entry: Record<string, unknown>): Promise<void> => {
    const res = await call(suite.consul.url, 'PUT', '/v1/config', { body: JSON.stringify(entry) });
    assert.equal(res.status, 200, res.body);
  };
  const deleteEntry = (kind: string, name: string) => call(suite.consul.url, 'DELETE', `/v1/config/${kind}/${name}`);
  const stateOf = (mesh: Mesh, name: string) => (mesh.state().services as Record<string, ServiceState>)[name]!;

  /** Two instances of `name`: version 1 and version 2 in their meta. */
  async function versions(name: string): Promise<{ v1: Backend; v2: Backend }> {
    const v1 = await suite.backend(() => startBackend(async (req, res) => {
      if (req.url?.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 300));
      res.end('{}');
    }));
    const v2 = await suite.backend(() => startBackend(async (req, res) => {
      if (req.url?.startsWith('/slow')) await new Promise((resolve) => setTimeout(resolve, 300));
      res.end('{}');
    }));
    await suite.consul.catalog.register(registrationOf(v1, name, `${name}-v1`, { Meta: { version: '1' } }));
    await suite.consul.catalog.register(registrationOf(v2, name, `${name}-v2`, { Meta: { version: '2' } }));
    return { v1, v2 };
  }
  const resolverOf = (name: string) => ({
    Kind: 'service-resolver',
    Name: name,
    DefaultSubset: 'v1',
    Subsets: { v1: { Filter: 'Service.Meta.version == 1' }, v2: { Filter: 'Service.Meta.version == 2' } },
  });
  const splitterOf = (name: string, v2: number) => ({
    Kind: 'service-splitter',
    Name: name,
    Splits: [
      { Weight: 100 - v2, ServiceSubset: 'v1' },
      { Weight: v2, ServiceSubset: 'v2' },
    ],
  });
  const meshFor = async (services: NonNullable<MeshConfig['services']>): Promise<Mesh> =>
    suite.mesh(await createMesh({ service: 'caller', consul: { url: suite.consul.url }, config: { services } }));
  async function calls(mesh: Mesh, name: string, count: number, options: { path?: string; headers?: Record<string, string> } = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (let done = 0; done < count; done += 25) {
      const batch = Array.from({ length: Math.min(25, count - done) }, async () => {
        const res = await mesh.client(name).request({ path: options.path ?? '/', headers: options.headers });
        await res.body.dump();
        return res.statusCode;
      });
      statuses.push(...(await Promise.all(batch)));
    }
    return statuses;
  }

  it('a resolver with subsets by Filter and a 90/10 splitter over them split the calls within ±3% over 2,000 (SPLITTERDOC canary)', async () => {
    const { v1, v2 } = await versions('web');
    await putEntry(resolverOf('web'));
    await putEntry(splitterOf('web', 10));
    const mesh = await meshFor({ web: { discovery: { type: 'consul' } } });
    assert.equal(stateOf(mesh, 'web').routing, 'consul');
    assert.deepEqual(stateOf(mesh, 'web').consulEntries!.entries, ['service-resolver/web', 'service-splitter/web']);
    const statuses = await calls(mesh, 'web', 2000);
    assert.ok(statuses.every((s) => s === 200));
    const share = v2.received.length / 2000;
    assert.equal(v1.received.length + v2.received.length, 2000);
    assert.ok(Math.abs(share - 0.1) <= 0.03, `v2 took ${(share * 100).toFixed(2)}%`);
  });

  it('a router sends a header match to its subset only, and its RequestTimeout applies to that route alone (ROUTERDOC)', async () => {
    const { v1, v2 } = await versions('api');
    await putEntry(resolverOf('api'));
    await putEntry({
      Kind: 'service-router',
      Name: 'api',
      Routes: [
        { Match: { HTTP: { Header: [{ Name: 'x-debug', Exact: '1' }] } }, Destination: { ServiceSubset: 'v2' } },
        { Match: { HTTP: { PathPrefix: '/slow/strict' } }, Destination: { ServiceSubset: 'v1', RequestTimeout: '100ms' } },
      ],
    });
    const mesh = await meshFor({ api: { discovery: { type: 'consul' }, timeout: '2s' } });
    await calls(mesh, 'api', 50, { headers: { 'x-debug': '1' } });
    assert.deepEqual([v1.received.length, v2.received.length], [0, 50]);
    await calls(mesh, 'api', 50);
    // the implicit catch-all goes to the resolver's DefaultSubset, v1
    assert.deepEqual([v1.received.length, v2.received.length], [50, 50]);
    await assert.rejects(mesh.client('api').request({ path: '/slow/strict' }), (error: { code?: string }) => error.code === 'MESH_TIMEOUT');
    const res = await mesh.client('api').request({ path: '/slow/other' });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  });

  it('a splitter changed in Consul applies while calls flow, none failing', async () => {
    const { v1, v2 } = await versions('shop');
    await putEntry(resolverOf('shop'));
    await putEntry(splitterOf('shop', 0));
    const mesh = await meshFor({ shop: { discovery: { type: 'consul' } } });
    await calls(mesh, 'shop', 100);
    assert.deepEqual([v1.received.length, v2.received.length], [100, 0]);
    let flowing = true;
    const outcomes: number[] = [];
    const failures: unknown[] = [];
    const traffic = Array.from({ length: 4 }, async () => {
      while (flowing) {
        try {
          const res = await mesh.client('shop').request({ path: '/' });
          await res.body.dump();
          outcomes.push(res.statusCode);
        } catch (error) {
          failures.push(error);
        }
      }
    });
    const applied = new Promise<string>((resolve) => {
      const dispose = mesh.on('config', (event) => {
        dispose();
        resolve(event.source);
      });
    });
    await putEntry(splitterOf('shop', 100));
    assert.equal(await applied, 'consul-entries:shop');
    await eventually(() => v2.received.length > 20, 'calls to reach v2 after the change');
    flowing = false;
    await Promise.all(traffic);
    assert.deepEqual(failures, []);
    assert.ok(outcomes.every((s) => s === 200));
    const before = v1.received.length;
    await calls(mesh, 'shop', 50);
    assert.equal(v1.received.length, before, 'no call goes to v1 after the change');
  });

  it('an entry Consul would refuse is reported at its path, and the routing in force keeps serving', async (t) => {
    // The emulator stores entries as sent; a real agent refuses this one itself.
    if (emulatorOnly(t, suite.consul) === undefined) return;
    const { v1, v2 } = await versions('cart');
    await putEntry(resolverOf('cart'));
    await putEntry(splitterOf('cart', 0));
    const mesh = await meshFor({ cart: { discovery: { type: 'consul' } } });
    const rejected = new Promise<{ source: string; paths: string[]; messages: string }>((resolve) => {
      const dispose = mesh.on('config-rejected', (event) => {
        dispose();
        resolve({ source: event.source, paths: event.issues.map((i) => i.path), messages: event.issues.map((i) => i.message).join('; ') });
      });
    });
    await putEntry({ Kind: 'service-splitter', Name: 'cart', Splits: [{ Weight: 60, ServiceSubset: 'v1' }, { Weight: 50, ServiceSubset: 'v2' }] });
    const event = await rejected;
    assert.equal(event.source, 'consul-entries:cart');
    assert.ok(event.paths.some((p) => p.startsWith('service-splitter/cart')), JSON.stringify(event));
    assert.match(event.messages, /must be 100/);
    await calls(mesh, 'cart', 40);
    assert.deepEqual([v1.received.length, v2.received.length], [40, 0]);
  });

  it("precedence: a service's own routes win, and its Consul entries are not read", async () => {
    const { v1, v2 } = await versions('orders');
    await putEntry(resolverOf('orders'));
    await putEntry(splitterOf('orders', 100));
    const mesh = await meshFor({
      orders: { discovery: { type: 'consul' }, subsets: { one: { meta: { version: '1' } } }, routes: [{ name: 'mine', to: [{ subset: 'one' }] }] },
    });
    assert.equal(stateOf(mesh, 'orders').routing, 'meshlet');
    assert.equal(stateOf(mesh, 'orders').consulEntries, undefined);
    await calls(mesh, 'orders', 30);
    assert.deepEqual([v1.received.length, v2.received.length], [30, 0]);
    await deleteEntry('service-splitter', 'orders');
  });

  it("a router destination's PrefixRewrite and request/response header changes apply to its calls only (ROUTERDOC Destination)", async () => {
    const { v1, v2 } = await versions('docs');
    await putEntry(resolverOf('docs'));
    const mesh = await meshFor({ docs: { discovery: { type: 'consul' } } });
    await putEntry({
      Kind: 'service-router',
      Name: 'docs',
      Routes: [
        {
          Match: { HTTP: { PathPrefix: '/v2/' } },
          Destination: {
            ServiceSubset: 'v2',
            PrefixRewrite: '/',
            RequestHeaders: { Add: { 'x-route': 'v2' }, Set: { 'x-user': 'anonymous' }, Remove: ['x-secret'] },
            ResponseHeaders: { Set: { 'x-served-by': 'docs-v2' } },
          },
        },
      ],
    });
    // NOTE: not the next 'config' event: the resolver, read after start-up, may bring its own
    // first (a CI run failed on that race). The router's route beside the implicit default is what counts.
    await eventually(() => (stateOf(mesh, 'docs').routes?.length ?? 0) >= 2, 'the router to apply', 5000);
    const res = await mesh.client('docs').request({ path: '/v2/page?q=1', headers: { 'x-user': 'alice', 'x-secret': 's3', 'x-route': 'caller' } });
    await res.body.dump();
    assert.equal(res.headers['x-served-by'], 'docs-v2');
    assert.equal(v2.received.length, 1);
    const seen = v2.received[0]!;
    assert.equal(seen.url, '/page?q=1', 'the matched prefix /v2/ is rewritten to /, the query kept');
    assert.equal(seen.headers['x-user'], 'anonymous');
    assert.equal(seen.headers['x-secret'], undefined);
    assert.equal(seen.headers['x-route'], 'caller, v2', 'Add appends');
    const other = await mesh.client('docs').request({ path: '/v1/page', headers: { 'x-secret': 's3' } });
    await other.body.dump();
    assert.equal(other.headers['x-served-by'], undefined);
    assert.equal(v1.received[0]!.url, '/v1/page');
    assert.equal(v1.received[0]!.headers['x-secret'], 's3', 'the catch-all route changes nothing');
    assert.deepEqual(stateOf(mesh, 'docs').consulEntries!.unsupported, []);
  });

  it("a field meshlet cannot honour (a resolver's ConnectTimeout other than the pool's) is reported in an event and in state(), and the rest applies", async () => {
    const { v1, v2 } = await versions('lib');
    const mesh = await meshFor({ lib: { discovery: { type: 'consul' } } });
    const reported = new Promise<{ source: string; paths: string[] }>((resolve) => {
      const dispose = mesh.on('config-rejected', (event) => {
        dispose();
        resolve({ source: event.source, paths: event.issues.map((i) => i.path) });
      });
    });
    await putEntry({ ...resolverOf('lib'), ConnectTimeout: '7s' });
    assert.deepEqual(await reported, { source: 'consul-entries:lib', paths: ['service-resolver/lib.ConnectTimeout'] });
    await eventually(() => stateOf(mesh, 'lib').routing === 'consul', 'the resolver to apply');
    assert.deepEqual(stateOf(mesh, 'lib').consulEntries!.unsupported.map((u) => u.path), ['service-resolver/lib.ConnectTimeout']);
    await calls(mesh, 'lib', 20);
    assert.deepEqual([v1.received.length, v2.received.length], [20, 0], 'the DefaultSubset applies');
  });

  it('with configEntries: false, a Consul service does not read its entries', async () => {
    const { v1, v2 } = await versions('optout');
    await putEntry(resolverOf('optout'));
    await putEntry(splitterOf('optout', 100));
    const mesh = await meshFor({ optout: { discovery: { type: 'consul', configEntries: false } } });
    assert.equal(stateOf(mesh, 'optout').routing, null);
    await calls(mesh, 'optout', 40);
    assert.ok(v1.received.length > 0 && v2.received.length > 0, 'both instances serve: no split applied');
  });

  it('a service whose entries route nothing stays unrouted', async () => {
    await versions('plain');
    const mesh = await meshFor({ plain: { discovery: { type: 'consul' } } });
    assert.equal(stateOf(mesh, 'plain').routing, null);
    assert.equal(stateOf(mesh, 'plain').routes, undefined);
  });
});
