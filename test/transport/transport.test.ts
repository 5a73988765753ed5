/**
 * The transport passes requests and responses through untouched: headers, every body type,
 * status codes. Real loopback server, real undici pool.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { contextFor, endpointFor, meshRequest, transportPolicy } from './fixtures.ts';

describe('http transport pass-through', () => {
  let backend: Backend;
  let endpoint: ReturnType<typeof endpointFor>;

  before(async () => {
    backend = await startBackend((req, res, body) => {
      const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? 200);
      res.statusCode = status;
      res.setHeader('x-echo-length', String(Buffer.byteLength(body)));
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end(body);
    });
    endpoint = endpointFor(backend.address);
  });

  after(async () => {
    await endpoint.connection.close();
    await backend.close();
  });

  async function send(method: string, path: string, body: Parameters<typeof meshRequest>[2], headers = {}) {
    const before = backend.received.length;
    const res = await httpTransport.call(meshRequest(method, path, body, headers), contextFor(endpoint));
    const text = await res.body.text();
    return { res, text, received: backend.received[before]! };
  }

  it('sends method, path with query and caller headers unchanged', async () => {
    const { res, received } = await send('PUT', '/a/b?x=1&y=%20', null, { 'x-custom': 'v1', 'x-multi': ['p', 'q'], accept: 'text/plain' });
    assert.equal(res.statusCode, 200);
    assert.equal(received.method, 'PUT');
    assert.equal(received.url, '/a/b?x=1&y=%20');
    assert.equal(received.headers['x-custom'], 'v1');
    assert.equal(received.headers['x-multi'], 'p, q');
    assert.equal(received.headers.accept, 'text/plain');
  });

  it('passes a string body through', async () => {
    const { text, received } = await send('POST', '/', 'héllo wörld', { 'content-type': 'text/plain; charset=utf-8' });
    assert.equal(received.body, 'héllo wörld');
    assert.equal(text, 'héllo wörld');
    assert.equal(received.headers['content-type'], 'text/plain; charset=utf-8');
  });

  it('passes Buffer and Uint8Array bodies through byte for byte', async () => {
    // The shared backend decodes bodies as UTF-8 (lossy for binary), so count raw bytes here.
    const raw = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(createHash('sha256').update(Buffer.concat(chunks)).digest('hex')));
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const rawEndpoint = endpointFor(`127.0.0.1:${(raw.address() as AddressInfo).port}`);
    try {
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      for (const body of [bytes, new Uint8Array(bytes)]) {
        const res = await httpTransport.call(meshRequest('POST', '/', body), contextFor(rawEndpoint));
        assert.equal(await res.body.text(), createHash('sha256').update(bytes).digest('hex'));
      }
    } finally {
      await rawEndpoint.connection.close();
      raw.closeAllConnections();
      await new Promise((resolve) => raw.close(resolve));
    }
    const viaArray = await send('POST', '/', new Uint8Array([104, 105, 33]));
    assert.equal(viaArray.received.body, 'hi!');
    assert.equal(viaArray.received.headers['content-length'], '3');
  });

  it('streams a Readable body without buffering it first', async () => {
    const stream = Readable.from(['chunk-1;', 'chunk-2;', 'chunk-3'], { objectMode: false });
    const { received, res } = await send('POST', '/stream', stream);
    assert.equal(res.statusCode, 200);
    assert.equal(received.body, 'chunk-1;chunk-2;chunk-3');
    assert.equal(received.headers['transfer-encoding'], 'chunked');
  });

  it('returns non-2xx statuses as responses with their headers', async () => {
    for (const status of [201, 204, 404, 429, 503]) {
      const { res } = await send('GET', `/?status=${status}`, null);
      assert.equal(res.statusCode, status);
    }
    const { res } = await send('GET', '/?status=502', null);
    assert.equal(res.statusCode, 502);
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  });
});

describe('http transport, requests a pool queues', () => {
  it('each request queued behind a busy connection is sent with its own method, path, headers and body', async () => {
    // The attempt's handler is also undici's dispatch options (attempt-handler.ts): a pool with
    // no free connection keeps it and reads it later, when it dequeues the request.
    const backend = await startBackend((req, res, body) => {
      res.setHeader('x-echo', `${req.method} ${req.url} ${req.headers['x-n']} ${body}`);
      res.end();
    });
    const endpoint = endpointFor(backend.address, { ...transportPolicy(), pool: { connections: 1, keepAliveTimeout: 4000, connectTimeout: 2000 } } as never);
    try {
      const calls = [0, 1, 2, 3].map((n) =>
        httpTransport.call(meshRequest(n % 2 === 0 ? 'POST' : 'PUT', `/item/${n}`, `body-${n}`, { 'x-n': String(n) }), contextFor(endpoint)),
      );
      const echoes: string[] = [];
      for (const call of calls) {
        const res = await call;
        await res.body.dump();
        echoes.push(String(res.headers['x-echo']));
      }
      assert.deepEqual(echoes, ['POST /item/0 0 body-0', 'PUT /item/1 1 body-1', 'POST /item/2 2 body-2', 'PUT /item/3 3 body-3']);
      assert.equal(backend.received.length, 4);
    } finally {
      await endpoint.connection.close();
      await backend.close();
    }
  });
});
