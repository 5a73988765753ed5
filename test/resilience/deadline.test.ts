/**
 * The deadline layer on its own, taken from the declared stack by name and wrapped around a
 * fake inner service that records what it was handed: it clips the call's deadline to an
 * inbound one, refuses work already late without calling inner, and links the inbound
 * request's cancellation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/core/clock.ts';
import { isMeshError } from '../../src/core/errors.ts';
import { runWithInbound } from '../../src/mesh/inbound.ts';
import { request } from '../balance/harness.ts';
import { ctxWithin, layerNamed, recorder } from '../stack/layers.ts';

describe('deadline layer', () => {
  it('clips the call deadline to a sooner inbound deadline', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const before = systemClock.now();
    await runWithInbound({ timeout: 100 }, () => service.call(request(), ctxWithin(5_000)));
    assert.equal(inner.contexts.length, 1);
    const left = inner.contexts[0]!.call.deadline - before;
    assert.ok(left <= 100 + 5 && left > 50, `deadline ${left} ms away, expected about 100`);
  });

  it('keeps its own deadline when the inbound one is later', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const ctx = ctxWithin(100);
    const own = ctx.call.deadline;
    await runWithInbound({ timeout: 5_000 }, () => service.call(request(), ctx));
    assert.deepEqual(
      inner.contexts.map((ctx) => ctx.call.deadline),
      [own],
    );
  });

  it('refuses work whose inbound deadline has passed with MESH_TIMEOUT, without calling inner', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(
      runWithInbound({ timeout: 0 }, () => service.call(request(), ctxWithin(5_000))),
      (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT',
    );
    assert.equal(inner.contexts.length, 0);
  });

  it('regression: a call made after its inbound deadline passed says so, not "exceeded its -N ms deadline"', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(
      runWithInbound({ timeout: 20 }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return service.call(request(), ctxWithin(5_000));
      }),
      (error: unknown) => {
        assert.ok(isMeshError(error) && error.code === 'MESH_TIMEOUT', String(error));
        assert.doesNotMatch(error.message, /-\d/, 'no negative duration');
        assert.match(error.message, /inbound request/);
        return true;
      },
    );
    assert.equal(inner.contexts.length, 0);
  });

  it('refuses a call whose own deadline is already reached with MESH_TIMEOUT, without calling inner', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    await assert.rejects(service.call(request(), ctxWithin(0)), (error: unknown) => isMeshError(error) && error.code === 'MESH_TIMEOUT');
    assert.equal(inner.contexts.length, 0);
  });

  it('links the inbound signal: inner sees a signal that aborts when the inbound request is cancelled', async () => {
    const inner = recorder();
    const service = layerNamed('deadline').wrap(inner);
    const inbound = new AbortController();
    const caller = new AbortController();
    await runWithInbound({ timeout: 5_000, signal: inbound.signal }, () => service.call(request(), ctxWithin(5_000, caller.signal)));
    const linked = inner.contexts[0]?.call.signal;
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
    assert.equal(inner.contexts.length, 0);
  });
});
