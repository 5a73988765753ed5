/**
 * Regression test for "a config push cancels the time limit of a response body being read":
 * the service's old runtime closes its layers once its last call has its response head
 * (calls in flight finish on the snapshot they started with), and the attempt layer's close
 * used to cancel every time limit still queued, so a body that stalled after its head hung
 * the caller past its deadline, for as long as the server kept the connection open.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createMesh, isMeshError } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { pushableStore } from '../support/pushable-store.ts';

describe('a response body read across a config push', () => {
  const closers: (() => Promise<void>)[] = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('regression: still fails with MESH_TIMEOUT at the call deadline after the service was rebuilt', async () => {
    // Sends its head and a first chunk, then never finishes the body.
    const stalling = await startBackend((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('head;');
    });
    closers.push(() => stalling.close());
    const config = (timeout: string) => ({ services: { stalls: { endpoints: [stalling.address], timeout } } });
    const store = pushableStore(config('300ms'));
    const mesh = await createMesh({ service: 'caller', control: store });
    closers.push(() => mesh.close({ timeout: 100 }));
    let rebuilt = false;
    mesh.on('config', (event) => {
      if (event.changedServices.includes('stalls')) rebuilt = true;
    });

    const res = await mesh.client('stalls').request({ path: '/' });
    assert.equal(res.statusCode, 200);
    store.push(config('400ms'));
    const startedReading = performance.now();
    let hanging: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      res.body.text().then(
        () => 'the body ended',
        (error: unknown) => (isMeshError(error) ? error.code : `raw ${String(error)}`),
      ),
      new Promise<string>((resolve) => {
        hanging = setTimeout(() => resolve('still hanging after 2 s'), 2_000);
      }),
    ]);
    clearTimeout(hanging);
    assert.ok(rebuilt, 'the push rebuilt the service while its body was read');
    assert.equal(outcome, 'MESH_TIMEOUT');
    assert.ok(performance.now() - startedReading < 1_000, 'it failed at the 300 ms deadline, not later');
  });
});
