import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { FaultPolicy } from '../../src/config/policy.ts';
import { syntheticResponse } from '../../src/resilience/synthetic-response.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { callStatus, ctxFor, faultFor, get, type PoolTransport, policyFor, poolTransport, stateOf } from './layer-harness.ts';

const abortAll: FaultPolicy = { abort: { percent: 100, status: 503 }, delay: false };

describe('fault injection', () => {
  let backend: Backend;
  let transport: PoolTransport;
  before(async () => {
    backend = await startBackend();
    transport = poolTransport(backend.url);
  });
  after(async () => {
    await transport.close();
    await backend.close();
  });

  it('returns inner unchanged when off or when no fault is set', () => {
    assert.equal(faultFor(policyFor({ fault: false })).wrap(transport), transport);
    assert.equal(faultFor(policyFor({ fault: { abort: false, delay: false } })).wrap(transport), transport);
  });

  it('aborts with a synthetic undici-shaped response that never reaches the server', async () => {
    const events = new MeshEventEmitter();
    const kinds: string[] = [];
    events.on('fault', (e) => kinds.push(e.kind));
    const layer = faultFor(policyFor({ fault: abortAll }), undefined, events);
    const service = layer.wrap(transport);
    const before = backend.received.length;
    const res = await service.call(get(), ctxFor());
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['x-meshlet-fault'], 'abort');
    const body = (await res.body.json()) as { error: string };
    assert.match(body.error, /fault injection/);
    assert.equal(res.body.bodyUsed, true);
    await assert.rejects(res.body.text(), TypeError, 'a body reads once, as with undici');
    assert.equal(backend.received.length, before);
    assert.deepEqual(kinds, ['abort']);
    assert.deepEqual(layer.state?.(), { ...abortAll, calls: 1, aborts: 1, delays: 0 });
  });

  it('injects only the configured percentage (random source injected)', async () => {
    const rolls = [0.49, 0.5, 0.99, 0.1];
    const layer = faultFor(policyFor({ fault: { abort: { percent: 50, status: 500 }, delay: false } }), undefined, undefined, () => rolls.shift()!);
    const service = layer.wrap(transport);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await callStatus(service));
    assert.deepEqual(results, [500, 200, 200, 500]);
  });

  it('delays a call, then sends it', async () => {
    const layer = faultFor(policyFor({ fault: { abort: false, delay: { percent: 100, duration: 60 } } }));
    const service = layer.wrap(transport);
    const started = performance.now();
    assert.equal(await callStatus(service), 200);
    assert.ok(performance.now() - started >= 59);
    assert.equal(stateOf<{ delays: number }>(layer).delays, 1);
  });

  it('a delay ends early on the caller abort and at the deadline, sending nothing', async () => {
    const layer = faultFor(policyFor({ fault: { abort: false, delay: { percent: 100, duration: 5000 } } }));
    const service = layer.wrap(transport);
    const before = backend.received.length;
    const started = performance.now();
    const pending = callStatus(service, ctxFor(undefined, AbortSignal.timeout(20)));
    assert.equal(await pending, 'MESH_ABORTED');
    assert.equal(await callStatus(service, ctxFor(undefined, undefined, systemClock.now() + 30)), 'MESH_TIMEOUT');
    assert.ok(performance.now() - started < 1000);
    assert.equal(backend.received.length, before);
  });

  it('the synthetic body streams like a Readable and dumps', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of syntheticResponse(500, 'x').body) chunks.push(chunk as Buffer);
    assert.deepEqual(JSON.parse(Buffer.concat(chunks).toString()), { error: 'x' });
    const dumped = syntheticResponse(500, 'y').body;
    await dumped.dump();
    assert.equal(dumped.bodyUsed, true);
    const bytes = new Uint8Array(await syntheticResponse(418, 'z').body.arrayBuffer());
    assert.equal(JSON.parse(Buffer.from(bytes).toString()).error, 'z');
  });
});
