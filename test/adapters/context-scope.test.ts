/**
 * The gate runs a framework's next() in an inbound request's context (InboundRequest.continueIn).
 * What must hold: a request never starts in another request's context, neither the next one on
 * a keep-alive connection nor one pipelined behind it in the same TCP read, nor the code that
 * dispatched it, and the handler still runs in its own. Also under the AsyncLocalStorage built
 * on async_hooks (Node 22's default; Node 24 with --no-async-context-frame), where a context
 * entered with enterWith stays on the connection's parser resource for its next request.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { on } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { meshlet as expressMeshlet } from '../../adapters/express/index.ts';
import { meshlet as fastifyMeshlet } from '../../adapters/fastify/index.ts';
import { currentInbound } from '../../src/core/call-context.ts';
import { createMesh } from '../../src/index.ts';
import { eventually } from '../support/waits.ts';

const mesh = await createMesh({ service: 'test', config: { services: {} } });
after(() => mesh.close());

/** Four requests on one connection: two one after the other, then two pipelined in one write. */
async function sendOnOneConnection(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  const request = (n: number): string => `GET /r?n=${n} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-meshlet-timeout-ms: ${1000 * n}\r\n\r\n`;
  const answers = (): number => received.split('HTTP/1.1 200').length - 1;
  socket.write(request(1));
  await eventually(() => answers() === 1, 'answer 1');
  socket.write(request(2));
  await eventually(() => answers() === 2, 'answer 2');
  socket.write(request(3) + request(4));
  await eventually(() => answers() === 4, 'answers 3 and 4');
  socket.destroy();
  return received;
}

interface Seen {
  /** The inbound context before the gate, per request: must be none. */
  before: unknown[];
  /** The deadline the handler's context has left, in ms, per request (1000 × n, less a little). */
  handler: number[];
}

function leftMs(): number {
  return Math.round(((currentInbound()?.deadline ?? Number.NaN) - performance.now()) / 1000) * 1000;
}

it('regression (context for the rest of the callback): on Express no request starts in the one before it, pipelined or not', async () => {
  const seen: Seen = { before: [], handler: [] };
  const app = express();
  app.use((_req, _res, next) => {
    seen.before.push(currentInbound());
    next();
  });
  app.use(expressMeshlet(mesh));
  app.get('/r', (_req, res) => {
    seen.handler.push(leftMs());
    res.send('ok');
  });
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  try {
    await sendOnOneConnection((server.address() as { port: number }).port);
  } finally {
    server.close();
  }
  assert.deepEqual(seen.before, [undefined, undefined, undefined, undefined]);
  assert.deepEqual(seen.handler, [1000, 2000, 3000, 4000]);
});

it('regression (context for the rest of the callback): on Fastify no request starts in the one before it, pipelined or not', async () => {
  const seen: Seen = { before: [], handler: [] };
  const app = Fastify();
  app.addHook('onRequest', (_request, _reply, next) => {
    seen.before.push(currentInbound());
    next();
  });
  await app.register(fastifyMeshlet, { mesh });
  app.get('/r', async () => {
    seen.handler.push(leftMs());
    return 'ok';
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    await sendOnOneConnection((app.server.address() as { port: number }).port);
  } finally {
    await app.server.close();
  }
  assert.deepEqual(seen.before, [undefined, undefined, undefined, undefined]);
  assert.deepEqual(seen.handler, [1000, 2000, 3000, 4000]);
});

it('regression (context for the rest of the callback): the code that dispatched a request is not left in its context (an async loop over the server\'s requests)', async () => {
  const app = express();
  app.use(expressMeshlet(mesh));
  app.get('/r', (_req, res) => res.send('ok'));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const seen: unknown[] = [];
  const loop = (async () => {
    for await (const [req, res] of on(server, 'request', { close: ['close'] })) {
      seen.push(currentInbound());
      app(req, res);
      seen.push(currentInbound());
    }
  })();
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/r`;
    for (let n = 1; n <= 3; n++) assert.equal(await (await fetch(url, { headers: { 'x-meshlet-timeout-ms': String(1000 * n) } })).text(), 'ok');
  } finally {
    server.closeAllConnections();
    server.close();
    await loop;
  }
  assert.deepEqual(seen, [undefined, undefined, undefined, undefined, undefined, undefined]);
});

it('regression (context for the rest of the callback): the same holds with the AsyncLocalStorage on async_hooks (Node 22), in a child process', { skip: process.env.MESHLET_CONTEXT_SCOPE_CHILD === '1' }, async () => {
  const run = promisify(execFile);
  const test = fileURLToPath(import.meta.url);
  // NOTE: without the parent's NODE_TEST_CONTEXT, or the child reports to it and exits 0.
  const env: NodeJS.ProcessEnv = { ...process.env, MESHLET_CONTEXT_SCOPE_CHILD: '1' };
  delete env.NODE_TEST_CONTEXT;
  await assert.doesNotReject(run(process.execPath, ['--no-async-context-frame', test], { env, timeout: 20_000 }), 'the tests above failed under --no-async-context-frame');
});
