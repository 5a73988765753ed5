/**
 * The HTTP transport hands undici the attempt as the request's `opaque` (one shared callback
 * instead of a closure per attempt); the response the caller gets must not carry it (it holds
 * the call, its signal and the endpoint): `opaque` is null, as undici gives it when none is set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

describe("a response's undici opaque", () => {
  let backend: Backend;
  let flaky: Backend;
  let mesh: Mesh;
  before(async () => {
    backend = await startBackend();
    let calls = 0;
    flaky = await startBackend((_req, res) => {
      res.statusCode = calls++ === 0 ? 503 : 200;
      res.end();
    });
    mesh = await createMesh({
      service: 'caller',
      config: { services: { plain: { endpoints: [backend.address] }, retried: { endpoints: [flaky.address], retry: { backoff: { base: '1ms', max: '2ms' } } } } },
    });
  });
  after(async () => {
    await mesh.close();
    await Promise.all([backend.close(), flaky.close()]);
  });

  it('is null on a first-try response and on a retried one, never the attempt', async () => {
    for (const service of ['plain', 'retried']) {
      const res = await mesh.client(service).request({ path: '/' });
      assert.equal(res.statusCode, 200);
      assert.equal((res as unknown as { opaque: unknown }).opaque, null, service);
      await res.body.dump();
    }
    assert.equal(flaky.received.length, 2, 'the retried service answered on its second attempt');
  });
});
