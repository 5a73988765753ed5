/**
 * The public API end to end, against real loopback servers: calls reach every endpoint,
 * headers and bodies pass through untouched, timeouts fire, close() drains, bad arguments
 * are refused before anything is sent.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createMesh, runWithInbound, type Mesh } from '../../src/index.ts';
import { startBackend, type Backend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';


describe('client against real backends', () => {
  let backends: Backend[];
  let slow: Backend;
  let mesh: Mesh;

  before(async () => {
    backends = await Promise.all([startBackend(), startBackend(), startBackend()]);
    slow = await startBackend(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      res.end('late');
    });
    mesh = await createMesh({
      service: 'checkout',
      config: {
        services: {
          api: { endpoints: backends.map((b) => b.address), balancer: 'round-robin' },
          slow: { endpoints: [slow.address], retry: false },
        },
      },
    });
  });

  after(async () => {
    await mesh.close();
    await Promise.all([...backends, slow].map((b) => b.close()));
  });

  it('spreads calls over every endpoint', async () => {
    for (const b of backends) b.received.length = 0;
    for (let i = 0; i < 30; i++) {
      const res = await mesh.client('api').request({ method: 'GET', path: '/spread' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.deepEqual(
      backends.map((b) => b.received.length),
      [10, 10, 10],
    );
  });

  it('passes headers and bodies through untouched, adding only the mesh headers', async () => {
    for (const b of backends) b.received.length = 0;
    const body = JSON.stringify({ order: 42, note: 'ünïcødé' });
    const res = await mesh.client('api').request({
      method: 'POST',
      path: '/charge?x=1&y=%20',
      headers: { 'Content-Type': 'application/json', 'x-custom': 'a b;c', 'x-multi': ['1', '2'] },
      body,
    });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    const got = backends.flatMap((b) => b.received);
    assert.equal(got.length, 1);
    const [received] = got;
    assert.equal(received!.method, 'POST');
    assert.equal(received!.url, '/charge?x=1&y=%20');
    assert.equal(received!.body, body);
    assert.equal(received!.headers['content-type'], 'application/json');
    assert.equal(received!.headers['x-custom'], 'a b;c');
    assert.equal(received!.headers['x-multi'], '1, 2');
    assert.equal(received!.headers['x-meshlet-attempt'], undefined, 'a first attempt carries no attempt number');
    const timeoutMs = Number(received!.headers['x-meshlet-timeout-ms']);
    assert.ok(timeoutMs > 9000 && timeoutMs <= 10_000, `default 10 s deadline travels, got ${timeoutMs}`);
  });

  it('sends Buffer, Uint8Array and streamed bodies byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    for (const body of [bytes, new Uint8Array(bytes), Readable.from([bytes.subarray(0, 3), bytes.subarray(3)])]) {
      for (const b of backends) b.received.length = 0;
      const res = await mesh.client('api').request({ method: 'PUT', path: '/bytes', body });
      await res.body.dump();
      const [received] = backends.flatMap((b) => b.received);
      assert.deepEqual(received!.raw, bytes);
    }
  });

  it('returns a non-2xx response as a response', async () => {
    const teapot = await startBackend((_req, res) => {
      res.statusCode = 418;
      res.end('short and stout');
    });
    const local = await createMesh({ service: 't', config: { services: { pot: { endpoints: [teapot.address] } } } });
    const res = await local.client('pot').request({ path: '/' });
    assert.equal(res.statusCode, 418);
    assert.equal(await res.body.text(), 'short and stout');
    await local.close();
    await teapot.close();
  });

  it('fires the per-call timeout with MESH_TIMEOUT', async () => {
    const started = performance.now();
    const error = await expectMeshError(mesh.client('slow').request({ path: '/', timeout: '100ms' }), 'MESH_TIMEOUT');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 95 && elapsed < 350, `timed out after ${elapsed} ms`);
    assert.match(error.message, /deadline/);
  });

  it('covers the response body: a body that stalls past the deadline fails with MESH_TIMEOUT', async () => {
    const stalling = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345'); // half the body, then nothing
    });
    const local = await createMesh({ service: 't', config: { services: { stall: { endpoints: [stalling.address], retry: false } } } });
    try {
      const started = performance.now();
      const res = await local.client('stall').request({ path: '/', timeout: '150ms' });
      assert.equal(res.statusCode, 200, 'the head arrives in time');
      const error = await expectMeshError(res.body.text(), 'MESH_TIMEOUT');
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 145 && elapsed < 600, `body destroyed after ${elapsed} ms`);
      assert.match(error.message, /150 ms deadline/);
      // A per-try timeout that passes during the body read is a MeshError for the caller too.
      const perTry = await createMesh({
        service: 't',
        config: { services: { stall: { endpoints: [stalling.address], retry: false, perTryTimeout: '100ms' } } },
      });
      try {
        const stalled = await perTry.client('stall').request({ path: '/' });
        const bodyError = await expectMeshError(stalled.body.text(), 'MESH_TIMEOUT');
        assert.match(bodyError.message, /per-try timeout while the response body was read/);
      } finally {
        await perTry.close();
      }
    } finally {
      await local.close();
      await stalling.close();
    }
  });

  it('accounts every attempt as ended, whatever way it ended', async () => {
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 10 }, () => mesh.client('api').request({ path: '/ok' }).then((res) => res.body.dump())),
      ...Array.from({ length: 3 }, () => mesh.client('slow').request({ path: '/', timeout: '30ms' })),
      mesh.client('slow').request({ path: '/', signal: AbortSignal.abort() }),
    ]);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 10);
    const services = mesh.state().services as Record<string, { endpoints: { inFlight: number; requests: number }[] }>;
    for (const name of ['api', 'slow']) {
      for (const endpoint of services[name]!.endpoints) assert.equal(endpoint.inFlight, 0, `${name}: attempts left in flight`);
    }
  });

  it('clips outgoing calls to the inbound deadline', async () => {
    const started = performance.now();
    await expectMeshError(
      runWithInbound({ timeout: 80 }, () => mesh.client('slow').request({ path: '/' })),
      'MESH_TIMEOUT',
    );
    assert.ok(performance.now() - started < 350);
  });

  it('does not start a call whose inbound deadline has passed', async () => {
    slow.received.length = 0;
    await expectMeshError(
      runWithInbound({ timeout: -1 }, () => mesh.client('slow').request({ path: '/' })),
      'MESH_TIMEOUT',
    );
    assert.equal(slow.received.length, 0);
  });

  it('aborts with MESH_ABORTED when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expectMeshError(mesh.client('slow').request({ path: '/', signal: controller.signal }), 'MESH_ABORTED');
  });

  it('serves mesh.fetch with the WHATWG shape', async () => {
    const response = await mesh.fetch('http://api/fetch?q=1', { method: 'POST', body: 'hello' });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { ok: boolean }).ok, true);
  });

  it('rejects an unknown service with MESH_UNKNOWN_SERVICE', async () => {
    const error = await expectMeshError(mesh.client('nope').request({ path: '/' }), 'MESH_UNKNOWN_SERVICE');
    assert.match(error.message, /services\.nope/);
  });

  it('refuses bad arguments with MESH_BAD_REQUEST before sending anything', async () => {
    for (const b of backends) b.received.length = 0;
    const bad: unknown[] = [
      null,
      'GET /',
      { method: 'GE T', path: '/' },
      { method: 42, path: '/' },
      { path: 'no-slash' },
      { path: '/a b' },
      { path: '/\r\nHost: evil' },
      { path: '/', headers: { 'x-evil': 'a\r\nInjected: 1' } },
      { path: '/', headers: { 'bad name': 'x' } },
      { path: '/', headers: { connection: 'close' } },
      { path: '/', headers: { 'transfer-encoding': 'chunked' } },
      { path: '/', headers: { 'x-obj': { a: 1 } } },
      { path: '/', body: 42 },
      { path: '/', body: { json: true } },
      { path: '/', idempotent: 'yes' },
      { path: '/', timeout: '-5ms' },
      { path: '/', timeout: 'soon' },
      { path: '/', signal: 'abort' },
      { path: '/', hashKey: 7 },
      { method: 'CONNECT', path: '/' },
    ];
    for (const options of bad) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed input
      await expectMeshError(mesh.client('api').request(options as any), 'MESH_BAD_REQUEST');
    }
    assert.equal(backends.reduce((n, b) => n + b.received.length, 0), 0);
  });

  it('reports endpoints and config in state()', () => {
    const state = mesh.state() as {
      config: { version: number; source: string };
      services: Record<string, { endpoints: { id: string }[] }>;
    };
    assert.equal(state.config.version, 1);
    assert.equal(state.config.source, 'bootstrap');
    assert.deepEqual(
      state.services.api!.endpoints.map((e) => e.id).sort(),
      backends.map((b) => b.address).sort(),
    );
    JSON.stringify(state);
  });
});

describe('close()', () => {
  it('lets in-flight calls finish, then rejects new calls with MESH_CLOSED', async () => {
    const slow = await startBackend(async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      res.end('done');
    });
    const mesh = await createMesh({ service: 'c', config: { services: { s: { endpoints: [slow.address] } } } });
    const inFlight = mesh.client('s').request({ path: '/' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closing = mesh.close();
    const res = await inFlight;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'done');
    await closing;
    await expectMeshError(mesh.client('s').request({ path: '/' }), 'MESH_CLOSED');
    await slow.close();
  });
});

describe('createMesh', () => {
  it('rejects an invalid bootstrap config with every issue', async () => {
    const error = await expectMeshError(
      createMesh({
        service: 'c',
        config: { services: { a: { endpoints: ['127.0.0.1:1'], retry: { attempts: -2 } }, b: { timeout: 'soon' } } },
      }),
      'MESH_CONFIG_INVALID',
    );
    assert.ok((error.issues?.length ?? 0) >= 2, JSON.stringify(error.issues));
  });

  it('rejects a missing service name', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed input
    await expectMeshError(createMesh({} as any), 'MESH_BAD_REQUEST');
  });
});
