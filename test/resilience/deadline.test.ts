/**
 * The deadline layer on its own, taken from the declared stack by name and wrapped around a
 * fake inner service that records what it was handed: it clips the call's deadline to an
 * inbound one, refuses work already late without calling inner, and links the inbound
 * request's cancellation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CallContext } from '../../src/core/call-context.ts';
import { newCallContext } from '../../src/core/call-context.ts';
import { systemClock } from '../../src/core/clock.ts';
import { isMeshError } from '../../src/core/errors.ts';
import type { MeshResponse, Service } from '../../src/core/service.ts';
import { runWithInbound } from '../../src/mesh/inbound.ts';
import { request } from '../balance/harness.ts';
import { layerNamed } from '../stack/layers.ts';

/** An inner service that records each context it is handed and answers at once. */
function recorder(): Service & { seen: CallContext[]; deadlines: number[]; signals: (AbortSignal | undefined)[] } {
  const seen: CallContext[] = [];
  const deadlines: number[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  return {
    seen,
    deadlines,
    signals,
    call(_request, ctx) {
      seen.push(ctx);
      deadlines.push(ctx.deadline);
      signals.push(ctx.signal);
      return Promise.resolve({ statusCode: 200 } as MeshResponse);
    },
  };
}

const ctxWithin = (ms: number, signal?: AbortSignal): CallContext => {
  const now = systemClock.now();
  return newCallContext('payments', now, now + ms, signal);
};

describe('deadline layer', () => {
  it('clips the call deadline to a sooner inbound deadline', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const before = systemClock.now();
    await runWithInbound({ timeout: 100 }, () => service.call(request(), ctxWithin(5_000)));
    assert.equal(inner.deadlines.length, 1);
    const left = inner.deadlines[0]! - before;
    assert.ok(left <= 100 + 5 && left > 50, `deadline ${left} ms away, expected about 100`);
  });

  it('keeps its own deadline when the inbound one is later', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const ctx = ctxWithin(100);
    const own = ctx.deadline;
    await runWithInbound({ timeout: 5_000 }, () => service.call(request(), ctx));
    assert.deepEqual(inner.deadlines, [own]);
  });

  it('refuses work whose inbound deadline has passed with MESH_TIMEOUT, without calling inner', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(
      runWithInbound({ timeout: 0 }, () => service.call(request(), ctxWithin(5_000))),
      (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT',
    );
    assert.equal(inner.seen.length, 0);
  });

  it('refuses a call whose own deadline is already reached with MESH_TIMEOUT, without calling inner', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(service.call(request(), ctxWithin(0)), (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT');
    assert.equal(inner.seen.length, 0);
  });

  it('links the inbound signal: inner sees a signal that aborts when the inbound request is cancelled', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const inbound = new AbortController();
    const caller = new AbortController();
    await runWithInbound({ timeout: 5_000, signal: inbound.signal }, () => service.call(request(), ctxWithin(5_000, caller.signal)));
    const linked = inner.signals[0];
    assert.ok(linked !== undefined);
    assert.equal(linked.aborted, false);
    inbound.abort(new Error('client went away'));
    assert.equal(linked.aborted, true);
  });

  it('refuses with MESH_ABORTED, without calling inner, when the inbound request is already cancelled', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(
      runWithInbound({ timeout: 5_000, signal: AbortSignal.abort() }, () => service.call(request(), ctxWithin(5_000))),
      (error: unknown) => isMeshError(error) && error.code === 'MESH_ABORTED',
    );
    assert.equal(inner.seen.length, 0);
  });
});
