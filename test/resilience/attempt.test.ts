/**
 * The attempt layer on its own, taken from the declared stack by name and wrapped around a
 * fake inner service that records what it was handed: the headers each attempt carries (on the
 * attempt: `Attempt.headers`, which the transport sends), no
 * attempt after the deadline, the per-try timeout on the attempt's wire, and a caller who
 * already gave up. Real timers: the per-try timeout is about time.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isMeshError, TransportError } from '../../src/core/errors.ts';
import { NO_HEADERS, type Service } from '../../src/core/service.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { ExpiryQueue } from '../../src/core/expiry-queue.ts';
import { ATTEMPT_HEADER, AttemptService, meshHeaders, TIMEOUT_HEADER } from '../../src/resilience/attempt.ts';
import { attemptFor } from '../support/attempt.ts';
import { request } from '../balance/harness.ts';
import { policyWith } from '../support/policy.ts';
import { ctxWithin, layerNamed, recorder } from '../stack/layers.ts';

describe('attempt layer', () => {
  it('adds x-meshlet-timeout-ms with the time left and no attempt header on the first attempt', async () => {
    const inner = recorder();
    const service = layerNamed('attempt').wrap(inner);
    const original = request({ headers: { 'x-caller': 'a' } });
    await service.call(original, ctxWithin(2_000));
    assert.equal(inner.requests[0], original, 'the request goes on as it is');
    const sent = { headers: inner.contexts[0]!.headers! };
    const left = Number(sent.headers[TIMEOUT_HEADER]);
    assert.ok(left > 1_900 && left <= 2_000, `${TIMEOUT_HEADER} was ${sent.headers[TIMEOUT_HEADER]}`);
    assert.equal(sent.headers[ATTEMPT_HEADER], undefined);
    assert.equal(sent.headers['x-caller'], 'a');
    assert.deepEqual(original.headers, { 'x-caller': 'a' }, "the caller's headers are copied, never mutated");
  });

  it("shares one frozen headers object between first attempts with no headers and the same ms left, and never another call's", () => {
    const bare = request({ headers: NO_HEADERS });
    const a = { headers: meshHeaders(bare.headers, 1, 1_500.2) };
    const b = { headers: meshHeaders(bare.headers, 1, 1_500.9) };
    assert.equal(a.headers, b.headers, 'the same whole ms: one object');
    assert.ok(Object.isFrozen(a.headers), 'shared, so no one may change it');
    assert.throws(() => {
      (a.headers as Record<string, string>)['x-leak'] = 'one call';
    }, TypeError);
    const sooner = { headers: meshHeaders(bare.headers, 1, 700) };
    assert.deepEqual(sooner.headers, { [TIMEOUT_HEADER]: '700' });
    assert.deepEqual(a.headers, { [TIMEOUT_HEADER]: '1500' }, 'a later value does not change an earlier call\'s headers');
    const own = { headers: meshHeaders(request({ headers: { 'x-caller': 'a' } }).headers, 1, 1_500) };
    assert.notEqual(own.headers, a.headers);
    assert.deepEqual(own.headers, { 'x-caller': 'a', [TIMEOUT_HEADER]: '1500' });
    const retry = { headers: meshHeaders(bare.headers, 2, 1_500) };
    assert.deepEqual(retry.headers, { [TIMEOUT_HEADER]: '1500', [ATTEMPT_HEADER]: '2' });
    assert.deepEqual(a.headers, { [TIMEOUT_HEADER]: '1500' });
  });

  it('adds x-meshlet-attempt on attempts after the first', async () => {
    const inner = recorder();
    const service = layerNamed('attempt').wrap(inner);
    await service.call(request(), ctxWithin(2_000, undefined, 3));
    assert.equal(inner.contexts[0]!.headers![ATTEMPT_HEADER], '3');
  });

  it('sends the per-try timeout as the time left when it is sooner than the deadline', async () => {
    const inner = recorder();
    const service = layerNamed('attempt', policyWith({ perTryTimeout: 300 })).wrap(inner);
    await service.call(request(), ctxWithin(5_000));
    assert.equal(inner.contexts[0]!.headers![TIMEOUT_HEADER], '300');
  });

  it('never starts an attempt after the deadline: MESH_TIMEOUT without calling inner', async () => {
    const inner = recorder();
    const service = layerNamed('attempt').wrap(inner);
    const ctx = ctxWithin(5);
    await sleep(20);
    await assert.rejects(service.call(request(), ctx), (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT');
    assert.equal(inner.requests.length, 0);
  });

  it("refuses with MESH_ABORTED, without calling inner, when the caller's signal is already aborted", async () => {
    const inner = recorder();
    const service = layerNamed('attempt').wrap(inner);
    await assert.rejects(service.call(request(), ctxWithin(5_000, AbortSignal.abort())), (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED');
    assert.equal(inner.requests.length, 0);
  });

  it("per-try timeout before the head aborts the attempt's wire with a TransportError 'timeout'", async () => {
    const inner = recorder();
    const service = layerNamed('attempt', policyWith({ perTryTimeout: 40 })).wrap(inner);
    await service.call(request(), ctxWithin(5_000));
    // The attempt is its own wire once the attempt layer armed it.
    const wire = inner.contexts[0]!;
    assert.ok(wire.armed);
    assert.equal(wire.aborted, false);
    await sleep(200);
    assert.equal(wire.aborted, true);
    assert.ok(wire.reason instanceof TransportError, `reason was ${String(wire.reason)}`);
    assert.equal(wire.reason.kind, 'timeout');
    assert.match(wire.reason.message, /exceeded its 40 ms per-try timeout/, 'the error names the limit the attempt kept');
  });

  it("per-try timeout after the head aborts the attempt's wire with MESH_TIMEOUT", async () => {
    const inner = recorder();
    const service = layerNamed('attempt', policyWith({ perTryTimeout: 40 })).wrap(inner);
    await service.call(request(), ctxWithin(5_000));
    const wire = inner.contexts[0]!;
    assert.ok(wire.armed);
    wire.responded = true; // what the transport does when the head arrives
    await sleep(200);
    assert.equal(wire.aborted, true);
    assert.ok(isMeshError(wire.reason) && wire.reason.code === 'MESH_TIMEOUT', `reason was ${String(wire.reason)}`);
  });

  it('a first try in the callback form starts at its call\'s start (no clock read); the promise form and later tries read the clock', () => {
    const clock = new ManualClock(150);
    const seen: { at: number; left: string | string[] | undefined }[] = [];
    const inner: Service = {
      call: () => Promise.reject(new Error('unused')),
      send(_sent, attempt, reply) {
        seen.push({ at: attempt.attemptAt, left: attempt.headers?.[TIMEOUT_HEADER] });
        reply.resolve(undefined as never);
      },
    };
    const service = new AttemptService(inner, clock, Number.POSITIVE_INFINITY, new ExpiryQueue(clock));
    const reply = { resolve() {}, reject(error: unknown) { assert.fail(String(error)); } };
    // The call started at 100 with a 1000 ms deadline; the layers above ran in that turn.
    service.send!(request(), attemptFor({ startedAt: 100, deadline: 1_100 }), reply);
    service.send!(request(), attemptFor({ startedAt: 100, deadline: 1_100, number: 2 }), reply);
    service.send!(request(), attemptFor({ startedAt: 100, deadline: 1_100, hedge: true }), reply);
    assert.deepEqual(seen, [
      { at: 100, left: '1000' },
      { at: 150, left: '950' },
      { at: 150, left: '950' },
    ]);
  });

  it('a first try in the promise form (a layer above may have waited) starts at the clock\'s now', async () => {
    const clock = new ManualClock(150);
    const inner = recorder();
    const service = new AttemptService(inner, clock, Number.POSITIVE_INFINITY, new ExpiryQueue(clock));
    const attempt = attemptFor({ startedAt: 100, deadline: 1_100 });
    await service.call(request(), attempt);
    assert.equal(attempt.attemptAt, 150);
    assert.equal(inner.contexts[0]!.headers![TIMEOUT_HEADER], '950');
  });

  it("a first try at its call's start sends its whole timeout, though floating point makes (start + 1000) - start 999.999…", () => {
    const startedAt = 24.3209699;
    assert.ok(startedAt + 1_000 - startedAt < 1_000, 'the case this test is about');
    const clock = new ManualClock(startedAt);
    const seen: (string | string[] | undefined)[] = [];
    const inner: Service = {
      call: () => Promise.reject(new Error('unused')),
      send(_sent, attempt, reply) {
        seen.push(attempt.headers?.[TIMEOUT_HEADER]);
        attempt.dispose();
        reply.resolve(undefined as never);
      },
    };
    const limits = new ExpiryQueue(clock);
    const service = new AttemptService(inner, clock, Number.POSITIVE_INFINITY, limits);
    service.send!(request(), attemptFor({ startedAt, deadline: startedAt + 1_000 }), { resolve() {}, reject: (error) => assert.fail(String(error)) });
    assert.deepEqual(seen, ['1000']);
  });
  it('a time left really just under a whole ms is not rounded up: the header never says more is left than there is', () => {
    // Before: any value within a microsecond of a whole ms snapped to it, so 999.9995 ms left went out as '1000'.
    const sent = (startedAt: number, deadline: number, now: number): string | string[] | undefined => {
      const clock = new ManualClock(now);
      let header: string | string[] | undefined;
      const inner: Service = {
        call(_outgoing, attempt) {
          header = attempt.headers?.[TIMEOUT_HEADER];
          attempt.dispose();
          return Promise.resolve(undefined as never);
        },
      };
      void new AttemptService(inner, clock, Number.POSITIVE_INFINITY, new ExpiryQueue(clock)).call(request(), attemptFor({ startedAt, deadline }));
      return header;
    };
    assert.equal(sent(100, 1_100, 100.0005), '999');
    assert.equal(sent(100, 1_100, 100.0000001), '999');
    // Float error alone still snaps, also after 99 days of uptime (a sum that crosses 2^33 ms loses a bit: ~1e-6 ms).
    const late = 8_589_934_183.346763;
    assert.ok(late + 1_000 - late !== 1_000, 'the case this test is about');
    assert.equal(sent(late, late + 1_000, late), '1000');
  });
});
