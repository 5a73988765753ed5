/**
 * Where meshlet's Express middleware runs. First on every path (`app.use(meshlet(mesh))` before
 * anything else), the gate leaves the router's layer walk after the first request and runs in
 * the router's dispatch (adapters/express hoist): every request, the first included, must still
 * pass every other layer once, run its handler in its deadline and trace, get a 504 when its
 * deadline has passed, and a gate that throws (the application's propagator) must reach the
 * application's error middleware. Anywhere else it stays a layer, and what runs before it runs
 * outside the request's deadline and trace (the README says so).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, it } from 'node:test';
import { context, propagation, type TextMapPropagator, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { meshlet } from '../../adapters/express/index.ts';
import { currentInbound } from '../../src/core/call-context.ts';
import { createMesh } from '../../src/index.ts';
import { installSdk } from '../telemetry/otel-sdk.ts';
import { get } from './client.ts';
import { listenExpress } from './listen.ts';

const sdk = installSdk({ metrics: false });
const mesh = await createMesh({ service: 'test', config: { services: {} } });
const servers: Server[] = [];
after(async () => {
  for (const server of servers) server.close();
  await mesh.close();
  await sdk.shutdown();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

const listen = (app: Express): Promise<string> => listenExpress(app, servers);

/** What a piece of the request sees of its context: the deadline's time left (s) and the trace id. */
function seen(): { left: number | null; traceId: string | null } {
  const deadline = currentInbound()?.deadline;
  return { left: deadline === undefined ? null : Math.round((deadline - performance.now()) / 1000), traceId: trace.getSpanContext(context.active())?.traceId ?? null };
}

const layerOf = (app: Express, handle: unknown): boolean => (app.router as unknown as { stack: { handle: unknown }[] }).stack.some((layer) => layer.handle === handle);

it('first on every path: the gate leaves the layer walk after the first request; every request passes each other layer once, in its deadline and trace', async () => {
  const app = express();
  const inbound = meshlet(mesh);
  app.use(inbound);
  app.use((req, _res, next) => {
    (req as Request & { marks: string[] }).marks = ['a'];
    next();
  });
  app.use(async (req, _res, next) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    (req as Request & { marks: string[] }).marks.push('b');
    next();
  });
  app.get('/x', (req, res) => {
    res.json({ marks: (req as Request & { marks: string[] }).marks, mesh: req.mesh === mesh, ...seen() });
  });
  const base = await listen(app);
  assert.equal(layerOf(app, inbound), true, 'a layer until the first request');
  const headers = { 'x-meshlet-timeout-ms': '7000', traceparent: TRACEPARENT };
  // Two at once first: the one that moves the gate walks the stack it started with.
  const answers = await Promise.all([get(`${base}/x`, headers), get(`${base}/x`, headers)]);
  answers.push(await get(`${base}/x`, headers));
  for (const answer of answers) assert.deepEqual(JSON.parse(answer.body), { marks: ['a', 'b'], mesh: true, left: 7, traceId: TRACE_ID });
  assert.equal(layerOf(app, inbound), false, 'out of the layer walk');
  const expired = await get(`${base}/x`, { 'x-meshlet-timeout-ms': '0' });
  assert.equal(expired.status, 504);
  assert.equal(inbound.inbound.serving, 0);
});

it('after another middleware (or under a path), meshlet stays a layer, and what runs before it is outside the request’s deadline and trace', async () => {
  const before: unknown[] = [];
  const app = express();
  app.use((_req, _res, next) => {
    before.push(seen());
    next();
  });
  const inbound = meshlet(mesh);
  app.use(inbound);
  app.get('/x', (_req, res) => {
    res.json(seen());
  });
  const base = await listen(app);
  const headers = { 'x-meshlet-timeout-ms': '7000', traceparent: TRACEPARENT };
  for (let i = 0; i < 2; i++) assert.deepEqual(JSON.parse((await get(`${base}/x`, headers)).body), { left: 7, traceId: TRACE_ID });
  assert.deepEqual(before, [
    { left: null, traceId: null },
    { left: null, traceId: null },
  ]);
  assert.equal(layerOf(app, inbound), true);
  assert.equal((await get(`${base}/x`, { 'x-meshlet-timeout-ms': '0' })).status, 504);

  const scoped = express();
  const underPath = meshlet(mesh);
  scoped.use('/api', underPath);
  scoped.get('/api/x', (_req, res) => {
    res.json(seen());
  });
  const scopedBase = await listen(scoped);
  for (let i = 0; i < 2; i++) assert.deepEqual(JSON.parse((await get(`${scopedBase}/api/x`, headers)).body), { left: 7, traceId: TRACE_ID });
  assert.equal(layerOf(scoped, underPath), true);
});

it('first in a sub-app mounted on a path: gated in the sub-app, the first request and the ones after', async () => {
  const sub = express();
  const inbound = meshlet(mesh);
  sub.use(inbound);
  sub.get('/x', (req, res) => {
    res.json({ url: req.originalUrl, ...seen() });
  });
  const parent = express();
  parent.use('/api', sub);
  const base = await listen(parent);
  for (let i = 0; i < 2; i++) assert.deepEqual(JSON.parse((await get(`${base}/api/x`, { 'x-meshlet-timeout-ms': '7000' })).body), { url: '/api/x', left: 7, traceId: null });
  assert.equal(layerOf(sub, inbound), false);
  assert.equal((await get(`${base}/api/x`, { 'x-meshlet-timeout-ms': '0' })).status, 504);
});

it('a propagator that throws reaches the application’s error middleware, as a layer’s throw would, and leaves nothing counted', async () => {
  const app = express();
  const inbound = meshlet(mesh);
  app.use(inbound);
  let handled = 0;
  app.get('/x', (_req, res) => {
    handled++;
    res.send('ok');
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).send(`the application's error handler: ${error.message}`);
  });
  const base = await listen(app);
  const broken: TextMapPropagator = {
    inject() {},
    extract() {
      throw new Error('a broken propagator');
    },
    fields: () => [],
  };
  propagation.disable();
  propagation.setGlobalPropagator(broken);
  try {
    // The first request meets the gate as a layer, the ones after in the router's dispatch.
    for (let i = 0; i < 3; i++) {
      const answer = await get(`${base}/x`);
      assert.equal(answer.status, 500);
      assert.equal(answer.body, "the application's error handler: a broken propagator");
    }
  } finally {
    propagation.disable();
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  assert.equal(layerOf(app, inbound), false);
  assert.equal(handled, 0);
  assert.equal(inbound.inbound.serving, 0);
  assert.equal((await get(`${base}/x`)).body, 'ok');
  assert.equal(handled, 1);
});

it('two gates, each first in its app, one app mounted in the other: both open the request, the inner one’s deadline applies within it', async () => {
  const sub = express();
  const inner = meshlet(mesh, { maxTimeout: 3000 });
  sub.use(inner);
  sub.get('/x', (req, res) => {
    res.json({ mesh: req.mesh === mesh, path: req.path, ...seen() });
  });
  const parent = express();
  const outer = meshlet(mesh);
  parent.use(outer);
  parent.use('/api', sub);
  parent.get('/y', (_req, res) => {
    res.json(seen());
  });
  const base = await listen(parent);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(JSON.parse((await get(`${base}/api/x`, { 'x-meshlet-timeout-ms': '7000' })).body), { mesh: true, path: '/x', left: 3, traceId: null });
    assert.deepEqual(JSON.parse((await get(`${base}/y`, { 'x-meshlet-timeout-ms': '7000' })).body), { left: 7, traceId: null });
  }
  assert.equal(layerOf(parent, outer) || layerOf(sub, inner), false);
  assert.equal(outer.inbound.serving + inner.inbound.serving, 0);
});
