/**
 * endOnClose (src/inbound/node-middleware.ts) keeps a response's InboundRequest on the response
 * and ends it from one shared 'close' listener. A response can pass two gates: an app with the
 * meshlet middleware mounted again in a sub-app or router (another gate, its own limits), or
 * the same middleware used twice. Each gate's request must be ended when the response closes,
 * or the gate counts it as served forever: its concurrency limit then answers 503 to everything
 * and its drain waits out its whole bound. Likewise a response whose client left before the
 * gate ran (an async middleware before it): its 'close' came before the gate's listener.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, it } from 'node:test';
import express from 'express';
import { meshlet } from '../../adapters/express/index.ts';
import { currentInbound } from '../../src/core/call-context.ts';
import { createMesh } from '../../src/index.ts';
import { eventually, sleep } from '../support/waits.ts';
import { get } from './client.ts';

const mesh = await createMesh({ service: 'test', config: { services: {} } });
after(() => mesh.close());

it('regression (one close listener per response): every gate a response passed ends its request, not only the last', async () => {
  const outer = meshlet(mesh);
  const inner = meshlet(mesh, { limits: { concurrency: 1 } });
  const app = express();
  app.use(outer);
  const router = express.Router();
  router.use(inner);
  router.use(outer);
  router.get('/r', (_req, res) => res.send('ok'));
  app.use('/api', router);
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/r`;
    for (let i = 0; i < 3; i++) assert.equal((await get(url)).status, 200, `request ${i + 1} (the inner gate admits one at a time)`);
    await eventually(() => outer.inbound.serving === 0 && inner.inbound.serving === 0, `every request ended (outer ${outer.inbound.serving}, inner ${inner.inbound.serving})`);
  } finally {
    server.close();
  }
});

it('regression (close before the gate): a client gone while a middleware before the gate awaited frees its place and aborts its calls', async () => {
  const gate = meshlet(mesh, { limits: { concurrency: 1 } });
  const app = express();
  let left!: () => void;
  const clientLeft = new Promise<void>((resolve) => (left = resolve));
  const signals: AbortSignal[] = [];
  let waiting = false;
  app.use(async (req, _res, next) => {
    if (req.url === '/slow') {
      waiting = true;
      await clientLeft;
    }
    next();
  });
  app.use(gate);
  app.get('/slow', (_req, res) => {
    signals.push(currentInbound()!.signal!);
    res.end();
  });
  app.get('/r', (_req, res) => res.send('ok'));
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const gone = new AbortController();
    const answer = get(`${base}/slow`, {}, gone.signal).catch((error: Error) => error.name);
    await eventually(() => waiting, 'the middleware before the gate is waiting');
    gone.abort();
    assert.equal(await answer, 'AbortError');
    await sleep(50);
    left();
    await eventually(() => signals.length === 1, 'the handler ran');
    assert.equal(signals[0]!.aborted, true, "the gone client's calls are aborted");
    assert.equal(gate.inbound.serving, 0, 'its place was freed');
    assert.equal((await get(`${base}/r`)).status, 200, 'the next request is admitted (a concurrency limit of 1)');
  } finally {
    server.close();
  }
});
