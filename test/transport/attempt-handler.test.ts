/**
 * The transport's own dispatch handler (attempt-handler.ts) over a real loopback server: the
 * response is undici's, nothing is registered on the attempt or the body for cancellation,
 * the attempt is released when its body is, the callback runs in the caller's async context,
 * and aborts before and after the head still cancel the request.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { Pool } from 'undici';
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import { isMeshError } from '../../src/core/errors.ts';
import { ExpiryQueue } from '../../src/core/expiry-queue.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { MeshResponse } from '../../src/core/service.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { endpointFor, meshRequest } from './fixtures.ts';

/** An attempt the way the attempt layer leaves it: armed with `limit` ms, following `signal`. */
function armedAttempt(endpoint: ReturnType<typeof endpointFor>, signal?: AbortSignal, limit = 5_000): Attempt {
  const now = systemClock.now();
  const attempt = Attempt.first(newCall('test', now, now + limit, signal));
  attempt.arm(limit, false);
  new ExpiryQueue(systemClock).add(attempt, now, limit);
  attempt.endpoint = endpoint;
  return attempt;
}

describe('http transport dispatch handler', () => {
  let backend: Backend;
  let endpoint: ReturnType<typeof endpointFor>;

  before(async () => {
    backend = await startBackend((req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('part');
        return; // never ends: the caller's abort must end it
      }
      res.setHeader('content-type', 'text/plain');
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    endpoint = endpointFor(backend.address);
  });

  after(async () => {
    await endpoint.connection.close();
    await backend.close();
  });

  it("gives undici's response shape and body, with nothing listening on the body's close", async () => {
    const pool = new Pool(`http://${backend.address}`);
    const reference = await pool.request({ path: '/', method: 'GET' });
    const referenceBody = await reference.body.text();
    await pool.close();
    const attempt = armedAttempt(endpoint);
    const res = await httpTransport.call(meshRequest('GET', '/'), attempt);
    assert.deepEqual(Object.keys(res), Object.keys(reference), 'the fields undici gives, in its order');
    assert.equal((res as unknown as { opaque: unknown }).opaque, null);
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(res.body)), Object.getPrototypeOf(reference.body), "undici's BodyReadable");
    // NOTE: undici's own request() handler adds a close listener to release its signal.
    assert.equal(res.body.listenerCount('close'), 0);
    assert.equal(await res.body.text(), referenceBody);
    assert.equal(res.headers['content-type'], 'text/plain');
  });

  it("releases the attempt when the body is read: no timer, no listener on the caller's signal", async () => {
    const caller = new AbortController();
    const attempt = armedAttempt(endpoint, caller.signal);
    assert.equal(getEventListeners(caller.signal, 'abort').length, 1, 'the attempt follows the caller');
    const res = await httpTransport.call(meshRequest('GET', '/'), attempt);
    await res.body.text();
    assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
    caller.abort();
    assert.equal(attempt.aborted, false, 'an attempt whose body is read is over');
  });

  it('a HEAD answer has an empty body whatever its content-length', async () => {
    const res = await httpTransport.call(meshRequest('HEAD', '/'), armedAttempt(endpoint));
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), '');
  });

  it("calls back in the caller's async context, not the connection's", async () => {
    const storage = new AsyncLocalStorage<string>();
    // The first call makes the connection; the second rides on it from another context.
    const seen: (string | undefined)[] = [];
    for (const name of ['first', 'second']) {
      await storage.run(name, () => new Promise<void>((resolve, reject) => {
        httpTransport.send!(meshRequest('GET', '/'), armedAttempt(endpoint), {
          resolve(res: MeshResponse) {
            seen.push(storage.getStore());
            res.body.text().then(() => resolve(), reject);
          },
          reject,
        });
      }));
    }
    assert.deepEqual(seen, ['first', 'second']);
  });

  it('an abort while the body is read destroys it with MESH_ABORTED and ends the request', async () => {
    const caller = new AbortController();
    const res = await httpTransport.call(meshRequest('GET', '/stall'), armedAttempt(endpoint, caller.signal));
    const reading = res.body.text();
    caller.abort();
    await assert.rejects(reading, (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED');
    const end = performance.now() + 1_000;
    while (backend.aborted === 0 && performance.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(backend.aborted >= 1, 'the server saw the request go away');
  });

  it('an abort before the head fails the attempt with MESH_ABORTED, the attempt released', async () => {
    const caller = new AbortController();
    const attempt = armedAttempt(endpoint, caller.signal);
    const pending = httpTransport.call(meshRequest('GET', '/'), attempt);
    caller.abort();
    await assert.rejects(pending, (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED');
    assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  });

  it('a request undici refuses (a bad header) is a MESH_BAD_REQUEST, settled after dispatch returns', async () => {
    let returned = false;
    const pending = httpTransport.call(meshRequest('GET', '/', null, { 'bad header': 'x' }), armedAttempt(endpoint));
    returned = true;
    await assert.rejects(pending, (error: unknown) => returned && isMeshError(error) && error.code === 'MESH_BAD_REQUEST');
  });

  it('shared frozen headers (sent as a flat list, kept) reach the server as the same headers in an object do', async () => {
    const frozen = Object.freeze({ 'x-meshlet-timeout-ms': '999', 'x-many': ['a', 'b'] });
    const other = Object.freeze({ 'x-meshlet-timeout-ms': '998' });
    const seen: unknown[] = [];
    for (const headers of [frozen, frozen, { ...frozen }, other, frozen]) {
      const before = backend.received.length;
      const res = await httpTransport.call(meshRequest('GET', '/', null, headers as Record<string, string | string[]>), armedAttempt(endpoint));
      await res.body.text();
      const { 'x-meshlet-timeout-ms': timeout, 'x-many': many } = backend.received[before]!.headers;
      seen.push([timeout, many]);
    }
    assert.deepEqual(seen, [['999', 'a, b'], ['999', 'a, b'], ['999', 'a, b'], ['998', undefined], ['999', 'a, b']]);
  });
});
