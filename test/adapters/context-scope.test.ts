/**
 * The gate enters an inbound request's context for the rest of the callback that runs the
 * framework's next() (InboundRequest.continueIn), without restoring the one before: Node
 * restores it when that callback returns to the event loop. What must hold: a request never
 * starts in another request's context, neither the next one on a keep-alive connection nor one
 * pipelined behind it in the same TCP read, and the handler still runs in its own.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { connect } from 'node:net';
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
