/**
 * Each failure kind is classified from a real socket, because "may the request have been
 * sent?" decides whether a non-idempotent call is ever resent (DESIGN §5).
 */
import assert from 'node:assert/strict';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Pool } from 'undici';
import { MeshError, TransportError } from '../../src/core/errors.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { contextFor, endpointFor, meshRequest } from './fixtures.ts';

const servers: Server[] = [];

/** A TCP server that reads one request head and then does `onRequest` to the socket. */
async function rawServer(onRequest: (socket: Socket) => void): Promise<{ address: string; requests: () => number }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        requests++;
        head = '';
        onRequest(socket);
      }
    });
  });
  server.on('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

function assertTransport(error: unknown, kind: string, maybeSent: boolean, fromUndici = true): void {
  assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
  assert.equal(error.kind, kind);
  assert.equal(error.maybeSent, maybeSent);
  if (fromUndici) assert.ok(error.cause !== undefined, 'the undici error is kept as cause');
}

after(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

describe('http transport failures', () => {
  it('a refused port is a connect-error that was never sent', async () => {
    const endpoint = endpointFor(`127.0.0.1:${await freePort()}`);
    const error = await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint)));
    assertTransport(error, 'connect-error', false);
    assert.equal((error as TransportError).endpoint, endpoint.address.id);
    await endpoint.connection.close();
  });

  it('a server that closes the socket after reading the request is a reset that may have been sent', async () => {
    const server = await rawServer((socket) => socket.destroy());
    const endpoint = endpointFor(server.address);
    assertTransport(await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint))), 'reset', true);
    assert.equal(server.requests(), 1);
    await endpoint.connection.close();
  });

  it('a TCP RST after the request is a reset that may have been sent', async () => {
    const server = await rawServer((socket) => socket.resetAndDestroy());
    const endpoint = endpointFor(server.address);
    const error = await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint)));
    assertTransport(error, 'reset', true);
    await endpoint.connection.close();
  });

  it('a pool closed or destroyed before the call is closed and never sent', async () => {
    const backend = await startBackend();
    try {
      const closed = endpointFor(backend.address);
      await closed.connection.close();
      // NOTE: a closed pool reports destroyed once drained, so both go through the pre-dispatch check.
      assertTransport(await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(closed))), 'closed', false, false);
      const destroyed = endpointFor(backend.address);
      await destroyed.connection.destroy();
      assertTransport(await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(destroyed))), 'closed', false, false);
      assert.equal(backend.received.length, 0);
    } finally {
      await backend.close();
    }
  });

  it('a pool destroyed while the request is in flight may have sent it', async () => {
    const server = await rawServer(() => {}); // reads the request, never answers
    const endpoint = endpointFor(server.address);
    const call = failure(httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint)));
    while (server.requests() === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    await endpoint.connection.destroy();
    assertTransport(await call, 'closed', true);
  });

  it('a call on a pool that is closing (draining in-flight calls) is closed and never sent', async () => {
    const server = await rawServer(() => {});
    const endpoint = endpointFor(server.address);
    const inFlight = failure(httpTransport.call(meshRequest('GET', '/'), contextFor(endpoint)));
    while (server.requests() === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    const closing = endpoint.connection.close();
    assertTransport(await failure(httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint))), 'closed', false);
    assert.equal(server.requests(), 1);
    await endpoint.connection.destroy();
    await Promise.all([inFlight, closing.catch(() => {})]);
  });

  it('a headers timeout is a timeout that may have been sent', async () => {
    const server = await rawServer(() => {});
    const endpoint = { ...endpointFor(server.address), connection: new Pool(`http://${server.address}`, { headersTimeout: 50 }) };
    assertTransport(await failure(httpTransport.call(meshRequest('GET', '/'), contextFor(endpoint))), 'timeout', true);
    await endpoint.connection.destroy();
  });

  it('an abort whose reason is a MeshError or TransportError rethrows that reason', async () => {
    const server = await rawServer(() => {});
    const endpoint = endpointFor(server.address);
    for (const reason of [new MeshError('MESH_TIMEOUT', 'deadline passed'), new TransportError('timeout', true, 'per-try timeout')]) {
      const controller = new AbortController();
      const call = failure(httpTransport.call(meshRequest('GET', '/'), contextFor(endpoint, controller.signal)));
      setTimeout(() => controller.abort(reason), 20);
      assert.equal(await call, reason);
    }
    await endpoint.connection.destroy();
  });

  it('a caller abort without a mesh reason is MESH_ABORTED, and a pre-aborted call is not sent', async () => {
    const server = await rawServer(() => {});
    const endpoint = endpointFor(server.address);
    const controller = new AbortController();
    const call = failure(httpTransport.call(meshRequest('GET', '/'), contextFor(endpoint, controller.signal)));
    // NOTE: aborted once the server has read it: aborted on a timer, a loaded run could abort
    // before the server's read, which then counted the request after sentBefore (1 !== 0).
    await eventually(() => server.requests() === 1, 'the server to read the first request');
    controller.abort();
    const error = await call;
    assert.ok(error instanceof MeshError);
    assert.equal(error.code, 'MESH_ABORTED');
    const sentBefore = server.requests();
    const preAborted = await failure(httpTransport.call(meshRequest('GET', '/'), contextFor(endpoint, AbortSignal.abort())));
    assert.equal((preAborted as MeshError).code, 'MESH_ABORTED');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(server.requests(), sentBefore);
    await endpoint.connection.destroy();
  });

  it('a header undici refuses is MESH_BAD_REQUEST, not an upstream failure', async () => {
    const endpoint = endpointFor(`127.0.0.1:${await freePort()}`);
    const error = await failure(httpTransport.call(meshRequest('GET', '/', null, { 'x-bad': 'a\r\nb' }), contextFor(endpoint)));
    assert.ok(error instanceof MeshError);
    assert.equal(error.code, 'MESH_BAD_REQUEST');
    await endpoint.connection.close();
  });
});
