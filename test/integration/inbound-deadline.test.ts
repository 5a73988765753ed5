/**
 * Regression tests for "an inbound deadline on the wrong clock is silently ignored" (issue 9,
 * defect 10): `runWithInbound({ deadline: Date.now() - 1000 })`, NaN or a string ran the call
 * unbounded. The inbound deadline is now a remaining `timeout` or a wall-clock `deadline`;
 * either clips every call made inside, a passed one fails fast without sending, and anything
 * else is refused synchronously with MESH_BAD_REQUEST. Against a real slow loopback server.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createMesh, type InboundOptions, isMeshError, type Mesh, runWithInbound } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

const SLOW_MS = 2_000;

describe('runWithInbound', () => {
  let slow: Backend;
  let mesh: Mesh;

  before(async () => {
    slow = await startBackend((_req, res) => {
      const timer = setTimeout(() => res.end('late'), SLOW_MS);
      res.on('close', () => clearTimeout(timer));
    });
    mesh = await createMesh({ service: 'web', config: { services: { slow: { endpoints: [slow.address], retry: false } } } });
  });

  after(async () => {
    await mesh.close();
    await slow.close();
  });

  beforeEach(() => {
    slow.received.length = 0;
  });

  /** Calls the slow server inside `inbound`: the error code it fails with, and after how long. */
  async function callInside(inbound: InboundOptions): Promise<{ code: string; ms: number }> {
    const started = performance.now();
    try {
      const res = await runWithInbound(inbound, () => mesh.client('slow').request({ path: '/' }));
      await res.body.dump();
      return { code: `answered ${res.statusCode}`, ms: performance.now() - started };
    } catch (error) {
      return { code: isMeshError(error) ? error.code : `raw ${String(error)}`, ms: performance.now() - started };
    }
  }

  function assertClippedTo100ms(outcome: { code: string; ms: number }): void {
    assert.equal(outcome.code, 'MESH_TIMEOUT');
    assert.ok(outcome.ms >= 90, `ended after ${outcome.ms.toFixed(1)} ms, before its 100 ms`);
    assert.ok(outcome.ms < 600, `ended after ${outcome.ms.toFixed(1)} ms: not clipped to its 100 ms`);
  }

  it('a 100 ms inbound timeout clips a call to a slow server to ~100 ms', async () => {
    assertClippedTo100ms(await callInside({ timeout: 100 }));
    assertClippedTo100ms(await callInside({ timeout: '100ms' }));
  });

  it('a Date.now() deadline clips the call (it was read as a monotonic time decades away: unbounded)', async () => {
    assertClippedTo100ms(await callInside({ deadline: Date.now() + 100 }));
    assertClippedTo100ms(await callInside({ deadline: new Date(Date.now() + 100) }));
  });

  it('a Date.now() deadline that has passed fails fast with MESH_TIMEOUT and sends nothing (it ran unbounded)', async () => {
    for (const inbound of [{ deadline: Date.now() - 1000 }, { timeout: 0 }, { timeout: -5 }]) {
      const outcome = await callInside(inbound);
      assert.equal(outcome.code, 'MESH_TIMEOUT', JSON.stringify(inbound));
      assert.ok(outcome.ms < 100, `took ${outcome.ms.toFixed(1)} ms to fail`);
    }
    assert.equal(slow.received.length, 0);
  });

  it('refuses NaN, strings, Infinity and values on another clock, synchronously (they ran the call unbounded)', () => {
    const cases: [unknown, RegExp][] = [
      [{ deadline: Number.NaN }, /deadline must be a valid Date or wall-clock epoch milliseconds.*got NaN/],
      [{ deadline: '2030-01-01' }, /deadline must be a valid Date/],
      [{ deadline: new Date('not a date') }, /got an invalid Date/],
      [{ deadline: performance.now() + 1000 }, /not a wall-clock time in epoch milliseconds \(a performance\.now\(\) value, or seconds\?\)/],
      [{ deadline: Date.now() / 1000 + 5 }, /h ago, so it is not a wall-clock time/],
      [{ deadline: Date.now() * 1000 }, /h from now, so it is not a wall-clock time/],
      [{ deadline: Number.POSITIVE_INFINITY }, /deadline must be a valid Date/],
      [{ timeout: Number.NaN }, /timeout is the time the inbound request has left: expected a finite duration, got NaN/],
      [{ timeout: Number.POSITIVE_INFINITY }, /expected a finite duration.*leave it out for no deadline/],
      [{ timeout: 'soon' }, /timeout is the time the inbound request has left: expected a duration/],
      [{ timeout: '100' }, /expected a duration/],
      [{ timeout: 100, deadline: Date.now() + 100 }, /not both/],
      [{ deadlineMs: 100 }, /unknown option "deadlineMs" \(did you mean 'deadline'\?\); valid options: timeout, deadline, signal/],
      [{ signal: 'abort' }, /signal must be an AbortSignal/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of cases) {
      let ran = false;
      assert.throws(
        () =>
          runWithInbound(options as InboundOptions, () => {
            ran = true;
          }),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && message.test(error.message),
        `${String(JSON.stringify(options))} should be refused matching ${message}`,
      );
      assert.equal(ran, false, 'the function did not run');
    }
    assert.throws(() => runWithInbound({ timeout: 100 }, 'not a function' as never), /the second argument must be the function to run/);
  });

  it("a nested inbound context is clipped to the outer one's deadline, and both cancellations apply", async () => {
    const outcome = await runWithInbound({ timeout: 100 }, () => callInside({ timeout: 5_000 }));
    assertClippedTo100ms(outcome);
    const outer = new AbortController();
    const inner = new AbortController();
    setTimeout(() => outer.abort(), 50);
    const aborted = await runWithInbound({ signal: outer.signal }, () => callInside({ signal: inner.signal, timeout: 5_000 }));
    assert.equal(aborted.code, 'MESH_ABORTED');
    assert.ok(aborted.ms < 600, `the outer abort took ${aborted.ms.toFixed(1)} ms to take effect`);
    const stillOpen = new AbortController();
    const innerOnly = new AbortController();
    setTimeout(() => innerOnly.abort(), 50);
    const innerAborted = await runWithInbound({ signal: stillOpen.signal }, () => callInside({ signal: innerOnly.signal }));
    assert.equal(innerAborted.code, 'MESH_ABORTED');
    assert.ok(innerAborted.ms < 600, `the inner abort took ${innerAborted.ms.toFixed(1)} ms to take effect`);
  });

  it('the inbound signal aborts the calls made inside with MESH_ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const outcome = await callInside({ signal: controller.signal });
    assert.equal(outcome.code, 'MESH_ABORTED');
    assert.ok(outcome.ms < 600, `the abort took ${outcome.ms.toFixed(1)} ms to take effect`);
  });
});
