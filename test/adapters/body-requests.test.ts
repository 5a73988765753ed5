/**
 * Requests with a body, on every framework: the framework reads the body before the handler
 * runs, which changes what the request's lifecycle events say (Fastify's onRequestAbort only
 * fires while the body is unread, its onResponse only when a response finished). A client that
 * disconnects mid-handler must still abort the outgoing call and free the request's place,
 * and an expired deadline must still answer 504 without running the handler.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMesh, isMeshError, type Mesh, TIMEOUT_HEADER } from '../../src/index.ts';
import type { InboundOptions } from '../../src/inbound/inbound-http.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { post } from './client.ts';
import { type App, FRAMEWORKS, type Routes, statusOf } from './frameworks.ts';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

async function setUp(framework: (typeof FRAMEWORKS)[number], routes: (mesh: Mesh) => Routes, options: InboundOptions): Promise<{ c: Backend; app: App }> {
  // C never answers /hang; its connection closing is what the test waits for.
  const c = await startBackend((req, res) => {
    if (req.url !== '/hang') res.end('ok');
  });
  closers.push(() => c.close());
  const mesh = await createMesh({ service: 'b', config: { services: { c: { endpoints: [c.address] } } } });
  closers.push(() => mesh.close());
  const app = await framework.start(mesh, options, routes(mesh));
  closers.push(() => app.shutdown());
  return { c, app };
}

for (const framework of FRAMEWORKS) {
  describe(`requests with a body: ${framework.name}`, () => {
    it('regression: a client that disconnects after its body was read aborts the outgoing call and frees its place (Fastify leaked both)', async () => {
      const outcomes: string[] = [];
      const { c, app } = await setUp(
        framework,
        (mesh) => ({
          '/b': async () => {
            try {
              return await statusOf(mesh.client('c').request({ path: '/hang' }));
            } catch (error) {
              outcomes.push(isMeshError(error) ? error.code : String(error));
              throw error;
            }
          },
          '/free': async () => 'free',
        }),
        { limits: { concurrency: 1 } },
      );
      const gone = new AbortController();
      const answer = post(`${app.url}/b`, { order: 1 }, { [TIMEOUT_HEADER]: '5000' }, gone.signal).catch((error: Error) => error.name);
      await eventually(() => c.received.length === 1, 'B called C');
      gone.abort();
      assert.equal(await answer, 'AbortError');
      await eventually(() => c.aborted === 1 && outcomes.length === 1, "B's call to C aborted", 2000);
      assert.deepEqual(outcomes, ['MESH_ABORTED']);
      // The one place (concurrency 1) is free again: a leaked count would answer 503 from now on.
      await eventually(async () => (await post(`${app.url}/free`, {})).status === 200, 'the place freed', 2000);
    });

    it('an expired deadline on a request with a body is a 504 before the handler runs', async () => {
      let ran = 0;
      const { app } = await setUp(framework, () => ({ '/b': async () => ran++ }), {});
      const expired = await post(`${app.url}/b`, { order: 1 }, { [TIMEOUT_HEADER]: '0' });
      assert.equal(expired.status, 504, expired.body);
      assert.equal(JSON.parse(expired.body).error, 'MESH_TIMEOUT');
      assert.equal((await post(`${app.url}/b`, { order: 2 })).status, 200);
      assert.equal(ran, 1, 'the handler ran for the second request only');
    });
  });
}
