/**
 * The shared inbound gate (src/inbound/) on its own, without a framework: the deadline
 * headers read strictly, a request cancelled before it made any call (its signal is made on
 * first read) still cancels the calls it makes after, the drain, and the option checks.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { after, it } from 'node:test';
import { MAX_DURATION_MS } from '../../src/config/limits.ts';
import { currentInbound } from '../../src/core/call-context.ts';
import { createMesh } from '../../src/index.ts';
import { timeLeftFromHeaders } from '../../src/inbound/deadline-headers.ts';
import { InboundHttp, isRefusal } from '../../src/inbound/inbound-http.ts';
import { startBackend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';

const backend = await startBackend();
const mesh = await createMesh({ service: 'b', config: { services: { c: { endpoints: [backend.address] } } } });
after(async () => {
  await mesh.close();
  await backend.close();
});

it('deadline headers: x-meshlet-timeout-ms, then grpc-timeout; anything not exactly one of those forms is absent', () => {
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': '250' }), 250);
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': '0' }), 0);
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': '0009' }), 9);
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': '250', 'grpc-timeout': '1S' }), 250);
  assert.equal(timeLeftFromHeaders({ 'grpc-timeout': '1S' }), 1000);
  assert.equal(timeLeftFromHeaders({ 'grpc-timeout': '2M' }), 120_000);
  assert.equal(timeLeftFromHeaders({ 'grpc-timeout': '5000u' }), 5);
  for (const value of ['-5', '1e3', '250, 300', ' 250', '12345678901', '', '0x10', '2/5', '25:', '250\n', '\uff12\uff15', '25.0']) {
    assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': value }), undefined, JSON.stringify(value));
  }
  for (const value of ['123456789S', '1s', '1', 'S', '-1S']) assert.equal(timeLeftFromHeaders({ 'grpc-timeout': value }), undefined, JSON.stringify(value));
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': ['1', '2'] }), undefined);
});

it('regression: a huge deadline header reads as a day, so no call timer overflows (it re-armed every 1 ms with a TimeoutOverflowWarning)', async () => {
  assert.equal(timeLeftFromHeaders({ 'x-meshlet-timeout-ms': '9999999999' }), MAX_DURATION_MS);
  assert.equal(timeLeftFromHeaders({ 'grpc-timeout': '99999999H' }), MAX_DURATION_MS);
  assert.equal(timeLeftFromHeaders({ 'grpc-timeout': '1440M' }), MAX_DURATION_MS, 'a day itself is kept');
  // A service without a timeout of its own: the inbound deadline is the call's only limit.
  const slow = await startBackend(async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    res.end('ok');
  });
  const untimed = await createMesh({ service: 'b', config: { services: { c: { endpoints: [slow.address], timeout: false } } } });
  const overflows: string[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    const gate = new InboundHttp(untimed);
    for (const headers of [{ 'x-meshlet-timeout-ms': '9999999999' }, { 'grpc-timeout': '99999999H' }]) {
      const inbound = gate.begin(headers);
      assert.ok(!isRefusal(inbound));
      const res = await inbound.run(() => untimed.client('c').request({ path: '/' }));
      assert.equal(await res.body.text(), 'ok');
      assert.equal(Number(slow.received.at(-1)?.headers['x-meshlet-timeout-ms']) <= MAX_DURATION_MS, true, 'what is sent on is bounded too');
      inbound.end();
    }
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(overflows, []);
  } finally {
    process.off('warning', onWarning);
    await untimed.close();
    await slow.close();
  }
});

it('a request cancelled before it made any call cancels the calls it makes after, which are never sent', async () => {
  const gate = new InboundHttp(mesh);
  const inbound = gate.begin({});
  assert.ok(!isRefusal(inbound));
  inbound.abort();
  assert.equal(gate.serving, 0, 'abort frees its place');
  await expectMeshError(
    inbound.run(() => mesh.client('c').request({ path: '/after-cancel' })),
    'MESH_ABORTED',
  );
  assert.equal(backend.received.length, 0);
});

it('drain: waits for the requests being served, and new ones get 503 with Connection: close once admission stopped', async () => {
  const gate = new InboundHttp(mesh, { drainTimeout: '2s' });
  const first = gate.begin({});
  assert.ok(!isRefusal(first));
  gate.stopAdmitting();
  const refused = gate.begin({});
  assert.ok(isRefusal(refused));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.connection, 'close');
  let drained = false;
  const draining = gate.drained().then(() => (drained = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(drained, false, 'still serving one');
  first.end();
  first.end();
  await draining;
  assert.equal(gate.serving, 0, 'end() is idempotent');
});

it('options are checked when the adapter is made', () => {
  assert.throws(() => new InboundHttp(mesh, { defaultTimeout: 'soon' }), { code: 'MESH_BAD_REQUEST' });
  assert.throws(() => new InboundHttp(mesh, { limits: { concurrency: 0 } }), /limits.concurrency/);
  assert.throws(() => new InboundHttp(mesh, { limits: { rate: { perSecond: -1 } } }), /limits.rate/);
  assert.throws(() => new InboundHttp(mesh, { admin: { path: '_meshlet' } }), /admin.path/);
  assert.throws(() => new InboundHttp(mesh, { admin: { path: '/_meshlet/' } }), /admin.path/);
});

it("run: the request's context is entered on top of the context it is run in, seen by what it starts, and gone after it (first run and later ones)", async () => {
  // An application's own AsyncLocalStorage (an APM's, OpenTelemetry's) around the request.
  const app = new AsyncLocalStorage<string>();
  const gate = new InboundHttp(mesh);
  const seen: unknown[] = [];
  const inbound = app.run('outer', () => {
    const begun = gate.begin({ 'x-meshlet-timeout-ms': '5000' });
    assert.ok(!isRefusal(begun));
    // The first run, in the callback the request began in (what every adapter does).
    begun.run(() => {
      seen.push(app.getStore(), currentInbound() === begun);
      setImmediate(() => seen.push(app.getStore(), currentInbound() === begun));
    });
    seen.push(app.getStore(), currentInbound());
    return begun;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen.splice(0), ['outer', true, 'outer', undefined, 'outer', true]);
  // A later run from another callback in which the application's context has moved on (a
  // hook that entered its own): that context is kept, not the one the request began in.
  await new Promise<void>((resolve) =>
    setImmediate(() =>
      app.run('moved on', () => {
        inbound.run(() => seen.push(app.getStore(), currentInbound() === inbound));
        seen.push(app.getStore(), currentInbound());
        resolve();
      }),
    ),
  );
  assert.deepEqual(seen.splice(0), ['moved on', true, 'moved on', undefined]);
  // A first run that comes from another callback than the one that began the request.
  const late = gate.begin({});
  assert.ok(!isRefusal(late));
  await new Promise<void>((resolve) =>
    setImmediate(() =>
      app.run('later', () => {
        late.run(() => seen.push(app.getStore(), currentInbound() === late));
        seen.push(currentInbound());
        resolve();
      }),
    ),
  );
  assert.deepEqual(seen.splice(0), ['later', true, undefined]);
  inbound.end();
  late.end();
});
