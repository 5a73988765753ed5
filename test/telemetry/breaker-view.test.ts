/**
 * breaker-view.ts keeps a service's breaker state for its attempt spans from the mesh's
 * `breaker` events. A config push rebuilds the service with a new breaker (closed) while calls
 * still in flight finish on the old stack and its old breaker: their failures open that old
 * breaker, and its transition must not become the state the new stack's spans carry.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { createMesh } from '../../src/index.ts';
import { startBackend } from '../support/http-backend.ts';
import { pushableStore } from '../support/pushable-store.ts';
import { sleep } from '../support/waits.ts';
import { installSdk } from './otel-sdk.ts';

const sdk = installSdk();

it("regression (breaker view across a config push): the old stack's breaker opening does not label the new stack's attempts open", async () => {
  let status = 503;
  const backend = await startBackend((req, res) => {
    res.statusCode = req.url === '/slow' ? 503 : status;
    if (req.url === '/slow') setTimeout(() => res.end(), 150);
    else res.end();
  });
  const breaker = { errorRate: 0.5, minRequests: 2, window: '10s', openFor: '10s' };
  const config = (timeout: string) => ({ services: { flip: { endpoints: [backend.address], retry: false, outlier: false, timeout, breaker } } });
  const store = pushableStore(config('1s'));
  const mesh = await createMesh({ service: 'checkout', control: store });
  try {
    // Two calls in flight on the first stack fail after the push: they open its (old) breaker.
    const inFlight = [mesh.client('flip').request({ path: '/slow' }), mesh.client('flip').request({ path: '/slow' })];
    await sleep(30);
    store.push(config('2s'));
    for (const pending of inFlight) await (await pending).body.dump();
    status = 200;
    sdk.spans.reset();
    await (await mesh.client('flip').request({ path: '/' })).body.dump();
    const states = (await sdk.finished()).filter((span) => span.kind === SpanKind.CLIENT).map((span) => span.attributes['meshlet.breaker.state']);
    assert.equal((mesh.state() as { services: Record<string, { breaker?: { state?: string } }> }).services.flip?.breaker?.state, 'closed', "the new stack's breaker");
    assert.deepEqual(states, ['closed'], 'the state on the attempt span the new stack sent');
  } finally {
    await mesh.close();
    await backend.close();
  }
});
