/**
 * Nest on Express: every request sees `req.mesh`, also after an Express app it passed through
 * as a function (which swaps the request's prototype), and an application that assigns
 * `req.mesh` itself (a test double, say) gets its own value on that request, and only on that one.
 * The gate runs inside the last body parser's layer (no layer of its own) when Nest's parsers
 * are the last layers, else as a middleware: both must gate (a passed deadline answers 504
 * without the handler), and a body the parser refuses must answer the parser's 400 and
 * leave no request counted as served.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, it } from 'node:test';
import { propagation, type TextMapPropagator } from '@opentelemetry/api';
import express from 'express';
import { Controller, Get, type INestApplication, Module, Post, Req } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { MeshModule } from '../../adapters/nestjs/index.ts';
import { currentInbound } from '../../src/core/call-context.ts';
import { InboundHttp } from '../../src/inbound/inbound-http.ts';
import { createMesh, type Mesh } from '../../src/index.ts';

const mesh = await createMesh({ service: 'test', config: { services: {} } });
const double = { double: true };

type Request = { mesh: unknown; query: Record<string, string>; body?: unknown };
let handled = 0;
/** The meshes of the apps start() made. */
const startedMeshes: Mesh[] = [];

class MeshController {
  seen(req: Request): unknown {
    handled++;
    if (req.query.assign === '1') req.mesh = double;
    const seen = { present: req.mesh !== undefined, isMesh: req.mesh === mesh, isDouble: req.mesh === double, own: Object.hasOwn(req, 'mesh') };
    // An app made by start() has a mesh of its own: the handler must see that one.
    return startedMeshes.includes(req.mesh as Mesh) ? { ...seen, started: true } : seen;
  }
  posted(req: Request): unknown {
    handled++;
    return { body: req.body, deadlineLeft: (currentInbound()?.deadline ?? 0) - performance.now() > 1000 };
  }
}
Req()(MeshController.prototype, 'seen', 0);
Get('/seen')(MeshController.prototype, 'seen', Object.getOwnPropertyDescriptor(MeshController.prototype, 'seen')!);
Req()(MeshController.prototype, 'posted', 0);
Post('/posted')(MeshController.prototype, 'posted', Object.getOwnPropertyDescriptor(MeshController.prototype, 'posted')!);
Controller('/')(MeshController);

async function start(bodyParser: boolean, setup?: (app: INestApplication) => void): Promise<{ url: string; gate: InboundHttp; ownLayer: boolean }> {
  const owned = await createMesh({ service: 'test', config: { services: {} } });
  startedMeshes.push(owned);
  class AppModule {}
  Module({ imports: [MeshModule.forRoot({ mesh: owned })], controllers: [MeshController] })(AppModule);
  const started = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false, bodyParser });
  setup?.(started);
  await started.listen(0, '127.0.0.1');
  after(() => started.close());
  const stack = (started.getHttpAdapter().getInstance() as { router: { stack: { name: string }[] } }).router.stack;
  return {
    url: `http://127.0.0.1:${((started.getHttpServer() as Server).address() as AddressInfo).port}`,
    gate: started.get(InboundHttp),
    ownLayer: stack.some((layer) => layer.name === 'meshletInbound'),
  };
}

const app = await NestFactory.create(
  (() => {
    class AppModule {}
    Module({ imports: [MeshModule.forRoot({ mesh: mesh as Mesh })], controllers: [MeshController] })(AppModule);
    return AppModule;
  })(),
  new ExpressAdapter(),
  { logger: false },
);
await app.listen(0, '127.0.0.1');
after(() => app.close());
const url = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;

const seen = async (query = ''): Promise<unknown> => (await fetch(`${url}/seen${query}`)).json();

/** A request whose deadline has passed gets 504 from the gate, and the handler never runs. */
async function expectExpiredRefused(base: string): Promise<void> {
  const before = handled;
  const expired = await fetch(`${base}/seen`, { headers: { 'x-meshlet-timeout-ms': '0' } });
  assert.equal(expired.status, 504);
  await expired.body?.cancel();
  assert.equal(handled, before);
}

for (const bodyParser of [true, false]) {
  it(`bodyParser: ${bodyParser}: a passed deadline answers 504 without the handler; a JSON body reaches the handler in the request's context`, async () => {
    const { url: base, ownLayer } = await start(bodyParser);
    // With Nest's parsers last, the gate is inside the last one's layer; without them, a layer of its own.
    assert.equal(ownLayer, !bodyParser);
    await expectExpiredRefused(base);
    const posted = await fetch(`${base}/posted`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-meshlet-timeout-ms': '5000' }, body: '{"a":1}' });
    assert.equal(posted.status, 201);
    // Without Nest's parser the body is not read (undefined, so absent from the JSON).
    assert.deepEqual(await posted.json(), bodyParser ? { body: { a: 1 }, deadlineLeft: true } : { deadlineLeft: true });
  });
}

it("a body Nest's parser refuses answers its 400 and leaves nothing counted as served", async () => {
  const { url: base, gate } = await start(true);
  const res = await fetch(`${base}/posted`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
  assert.equal(res.status, 400);
  await res.body?.cancel();
  assert.equal(gate.serving, 0);
});

it('every request sees req.mesh, read through the request prototype with nothing stored on the request', async () => {
  assert.deepEqual(await seen(), { present: true, isMesh: true, isDouble: false, own: false });
  assert.deepEqual(await seen(), { present: true, isMesh: true, isDouble: false, own: false });
});

it("an application's own req.mesh = ... holds on that request only", async () => {
  assert.deepEqual(await seen('?assign=1'), { present: true, isMesh: false, isDouble: true, own: true });
  assert.deepEqual(await seen(), { present: true, isMesh: true, isDouble: false, own: false });
});

it('req.mesh survives an Express app the request passed through as a plain function', async () => {
  // express() as a function sets the request's prototype to its own request object and leaves
  // it so when it falls through: with req.mesh on the Nest app's prototype, the handler saw none.
  const legacy = express();
  const { url: base } = await start(true, (nest) => nest.use((req: express.Request, res: express.Response, next: () => void) => legacy(req, res, next)));
  assert.deepEqual(await (await fetch(`${base}/seen`)).json(), { present: true, isMesh: false, isDouble: false, own: false, started: true });
});

it("an application's own parser on a path, last: the gate still covers every path", async () => {
  // bodyParser: false and app.use('/posted', express.json()): the last layer is a jsonParser that
  // only /posted reaches; the gate inside it left every other path ungated (200, handler ran).
  const { url: base, ownLayer } = await start(false, (nest) => nest.use('/posted', express.json()));
  assert.equal(ownLayer, true);
  await expectExpiredRefused(base);
  const posted = await fetch(`${base}/posted`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-meshlet-timeout-ms': '5000' }, body: '{"a":1}' });
  assert.deepEqual(await posted.json(), { body: { a: 1 }, deadlineLeft: true });
});

it('a propagator that throws, on a request whose body the last parser read: a 500, no uncaught exception, nothing left counted', async () => {
  // The last parser (urlencoded) calls next() from its body's 'end', outside Express's try/catch:
  // the throw was an uncaught exception and the request hung; and the gate had counted the
  // request before reading the trace, so it stayed served forever (the drain waited it out).
  const { url: base, gate } = await start(true);
  const broken: TextMapPropagator = {
    inject() {},
    extract() {
      throw new Error('a broken propagator');
    },
    fields: () => [],
  };
  propagation.setGlobalPropagator(broken);
  try {
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', 'a=1'],
      ['application/json', '{"a":1}'],
    ]) {
      const res = await fetch(`${base}/posted`, { method: 'POST', headers: { 'content-type': type! }, body, signal: AbortSignal.timeout(5000) });
      assert.equal(res.status, 500);
      await res.body?.cancel();
    }
    const res = await fetch(`${base}/seen`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 500);
    await res.body?.cancel();
  } finally {
    propagation.disable();
  }
  assert.equal(gate.serving, 0);
});
