/**
 * The admin page's call statistics, fed by publishing on meshlet's diagnostics channels
 * directly (as the mesh's publishers do), on a hand-driven clock: rates and success rates over
 * the window, logical vs per attempt, percentiles, the minute of history, endpoint removal, and
 * that nothing is subscribed before a collector exists or after it closed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallStats, WINDOW_SECONDS } from '../../src/admin/call-stats.ts';
import type { AttemptEndMessage, CallEndMessage } from '../../src/telemetry/channels.ts';
import { attemptEndChannel, callEndChannel, endpointChannel } from '../../src/telemetry/channels.ts';

function call(service: string, outcome: CallEndMessage['outcome'], durationMs: number, errorCode?: string): CallEndMessage {
  return { mesh: 0, service, route: undefined, method: 'GET', startedAt: 0, durationMs, statusCode: outcome === 'success' ? 200 : undefined, outcome, errorCode, attempts: 1 };
}

function attempt(service: string, endpoint: string, outcome: AttemptEndMessage['outcome'], hedge = false, durationMs = 1): AttemptEndMessage {
  return { mesh: 0, service, attempt: 1, hedge, endpoint, method: 'GET', startedAt: 0, durationMs, statusCode: undefined, outcome, condition: undefined, errorType: undefined };
}

describe('admin call statistics (diagnostics channel subscriber)', () => {
  it('subscribes only while a collector is open', () => {
    // Other test files in this process may hold collectors; this one's own subscription is what is checked.
    const before = callEndChannel.hasSubscribers;
    const stats = new CallStats({ now: () => 0 });
    assert.equal(callEndChannel.hasSubscribers, true);
    assert.equal(attemptEndChannel.hasSubscribers, true);
    stats.close();
    stats.close();
    assert.equal(callEndChannel.hasSubscribers, before);
  });

  it("regression: an endpoint's latency holds while it is idle between calls (the balancer's EWMA, decaying, read 0 ms for a live endpoint)", () => {
    let now = 200_000;
    const stats = new CallStats({ now: () => now });
    try {
      attemptEndChannel.publish(attempt('pay-idle', 'e1', 'success', false, 0.4));
      attemptEndChannel.publish(attempt('pay-idle', 'e1', 'success', false, 0.6));
      now += 5000;
      assert.equal(stats.service('pay-idle')!.endpoints.e1!.latencyMs, 0.5);
      now += WINDOW_SECONDS * 1000;
      assert.equal(stats.service('pay-idle')!.endpoints.e1!.latencyMs, null, 'past the window: nothing measured, not 0');
    } finally {
      stats.close();
    }
  });

  it('reports logical and per-attempt rates and success rates over the window', () => {
    let now = 100_000;
    const stats = new CallStats({ now: () => now });
    try {
      // 10 logical calls in one second: 9 succeed (one after a retry), 1 fails after two failed attempts.
      for (let i = 0; i < 9; i++) callEndChannel.publish(call('pay-a', 'success', 10 + i));
      callEndChannel.publish(call('pay-a', 'failure', 50));
      for (let i = 0; i < 9; i++) attemptEndChannel.publish(attempt('pay-a', 'e1', 'success'));
      for (let i = 0; i < 3; i++) attemptEndChannel.publish(attempt('pay-a', 'e2', 'failure', false, 30 + i));
      attemptEndChannel.publish(attempt('pay-a', 'e1', 'not-the-dependency', true, 500));
      // The second in progress is partial: not in the rates yet.
      assert.equal(stats.service('pay-a')!.callsPerSecond, 0);
      now += 1000;
      const s = stats.service('pay-a')!;
      assert.equal(s.callsPerSecond, 10 / WINDOW_SECONDS);
      assert.equal(s.successRate, 0.9);
      assert.equal(s.attemptsPerSecond, 13 / WINDOW_SECONDS);
      assert.equal(s.attemptSuccessRate, 0.75, 'the lost hedge is neither a success nor a failure');
      assert.equal(s.hedgesPerSecond, 1 / WINDOW_SECONDS);
      assert.deepEqual(s.endpoints.e1, { attempts: 10, successRate: 1, latencyMs: 1 }, 'the lost hedge (500 ms) is not in the mean');
      assert.deepEqual(s.endpoints.e2, { attempts: 3, successRate: 0, latencyMs: 31 });
      assert.equal(s.history.calls.length, 59);
      assert.equal(s.history.calls.at(-1), 10);
      assert.equal(s.history.failures.at(-1), 1);
      // Past the window the rates fall to nothing; the minute of history still has the second.
      now += (WINDOW_SECONDS + 1) * 1000;
      const later = stats.service('pay-a')!;
      assert.equal(later.callsPerSecond, 0);
      assert.equal(later.successRate, null);
      assert.equal(later.latencyMs.samples, 0);
      assert.equal(later.history.calls.filter((n) => n === 10).length, 1);
      // Past the minute, nothing.
      now += 61_000;
      assert.equal(stats.service('pay-a')!.history.calls.filter((n) => n > 0).length, 0);
    } finally {
      stats.close();
    }
  });

  it('computes p50/p95/p99 of the logical calls by nearest rank', () => {
    const stats = new CallStats({ now: () => 5_000 });
    try {
      for (let ms = 1; ms <= 100; ms++) callEndChannel.publish(call('pay-b', 'success', ms));
      assert.deepEqual(stats.service('pay-b')!.latencyMs, { p50: 50, p95: 95, p99: 99, samples: 100 });
    } finally {
      stats.close();
    }
  });

  it('leaves caller-cancelled calls out and counts refusals (breaker, limits) as failed calls', () => {
    let now = 7_000;
    const stats = new CallStats({ now: () => now });
    try {
      callEndChannel.publish(call('pay-c', 'not-the-dependency', 1, 'MESH_ABORTED'));
      callEndChannel.publish(call('pay-c', 'not-the-dependency', 1, 'MESH_CIRCUIT_OPEN'));
      callEndChannel.publish(call('pay-c', 'success', 1));
      now += 1000;
      const s = stats.service('pay-c')!;
      assert.equal(s.callsPerSecond, 2 / WINDOW_SECONDS);
      assert.equal(s.successRate, 0.5);
      assert.equal(s.refusedPerSecond, 1 / WINDOW_SECONDS);
    } finally {
      stats.close();
    }
  });

  it('computes the statistics of a service at most once a second, however many viewers ask', () => {
    let now = 20_000;
    const stats = new CallStats({ now: () => now });
    try {
      callEndChannel.publish(call('pay-e', 'success', 1));
      const first = stats.service('pay-e');
      callEndChannel.publish(call('pay-e', 'success', 2));
      assert.equal(stats.service('pay-e'), first, 'the same answer within the second');
      now += 1000;
      const next = stats.service('pay-e')!;
      assert.notEqual(next, first);
      assert.equal(next.latencyMs.samples, 2);
    } finally {
      stats.close();
    }
  });

  it('takes any endpoint id as data, __proto__ included', () => {
    let now = 30_000;
    const stats = new CallStats({ now: () => now });
    try {
      attemptEndChannel.publish(attempt('pay-f', '__proto__', 'success'));
      now += 1000;
      const endpoints = stats.service('pay-f')!.endpoints;
      assert.deepEqual(Object.keys(endpoints), ['__proto__']);
      assert.match(JSON.stringify(endpoints), /^\{"__proto__":\{"attempts":1,/);
    } finally {
      stats.close();
    }
  });

  it('forgets an endpoint discovery removed (an autoscaled fleet does not grow the map)', () => {
    const stats = new CallStats({ now: () => 9_000 });
    try {
      attemptEndChannel.publish(attempt('pay-d', '10.0.0.1:80', 'success'));
      attemptEndChannel.publish(attempt('pay-d', '10.0.0.2:80', 'success'));
      endpointChannel.publish({ service: 'pay-d', endpoint: '10.0.0.1:80', event: 'removed', reason: undefined });
      assert.deepEqual(Object.keys(stats.service('pay-d')!.endpoints), ['10.0.0.2:80']);
    } finally {
      stats.close();
    }
  });

  it('regression: with the service cap reached, a service idle for the minute of history makes room for a new one (names that come and go do not lock newer ones out)', () => {
    let now = 1_000_000;
    const stats = new CallStats({ now: () => now });
    try {
      for (let i = 0; i < 256; i++) callEndChannel.publish(call(`churn-${i}`, 'success', 1));
      now += 30_000;
      callEndChannel.publish(call('churn-new-while-live', 'success', 1));
      assert.equal(stats.service('churn-new-while-live'), undefined, 'every tracked service was live: no room');
      now += 31_000;
      for (let i = 0; i < 10; i++) attemptEndChannel.publish(attempt('churn-late', `10.1.0.${i}:80`, 'success'));
      callEndChannel.publish(call('churn-late', 'success', 1));
      now += 1000;
      assert.equal(stats.service('churn-late')?.callsPerSecond, 0.1);
      assert.equal(Object.keys(stats.service('churn-late')!.endpoints).length, 10);
      assert.equal(stats.untracked, 1);
    } finally {
      stats.close();
    }
  });

  it('regression: with the endpoint cap reached, an endpoint idle for the window makes room for a new one', () => {
    let now = 2_000_000;
    const stats = new CallStats({ now: () => now });
    try {
      for (let i = 0; i < 256; i++) attemptEndChannel.publish(attempt('fleet', `10.2.${i >> 8}.${i & 255}:80`, 'success'));
      now += 12_000;
      attemptEndChannel.publish(attempt('fleet', '10.3.0.1:80', 'success'));
      now += 1000;
      assert.deepEqual(stats.service('fleet')!.endpoints['10.3.0.1:80'], { attempts: 1, successRate: 1, latencyMs: 1 });
      assert.equal(stats.untracked, 0);
    } finally {
      stats.close();
    }
  });

  it('is bounded: services past the cap are counted as untracked, not kept', () => {
    const stats = new CallStats({ now: () => 0 });
    try {
      for (let i = 0; i < 300; i++) callEndChannel.publish(call(`bounded-${i}`, 'success', 1));
      assert.equal(stats.service('bounded-255') === undefined, false);
      assert.equal(stats.service('bounded-299'), undefined);
      assert.ok(stats.untracked >= 300 - 256);
    } finally {
      stats.close();
    }
  });
});
