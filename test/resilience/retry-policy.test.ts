/**
 * The retry rules as logic, on an instant clock and a scripted inner service: which results
 * are retried, how long each wait is, and when retrying stops (deadline, budget,
 * Retry-After, attempts). The loopback tests in retry.test.ts cover the same rules on the wire.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attempt } from '../../src/core/attempt.ts';
import { attemptFor } from '../support/attempt.ts';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import { isMeshError, MeshError, TransportError } from '../../src/core/errors.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import type { RetryPolicy } from '../../src/config/policy.ts';
import { fullJitterBackoff } from '../../src/resilience/backoff.ts';
import { RetryingService } from '../../src/resilience/retry.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';
import { retryAfterDelay } from '../../src/resilience/retry-after.ts';
import { createRetryBudget } from '../../src/resilience/retry-budget.ts';
import type { LayerEnv } from '../../src/core/layer-env.ts';
import { DEFAULT_RETRY, testPolicy } from './retry-harness.ts';

/** Time moves only when the code under test sleeps, by exactly what it asked for. */
class InstantClock implements Clock {
  time = 0;
  /** When set, a sleep never ends on its own: only an abort ends it. */
  hang = false;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  setTimer(): TimerHandle {
    throw new Error('not used by the retry layer');
  }
  setCallTimer(): TimerHandle {
    throw new Error('not used by the retry layer');
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.sleeps.push(ms);
    if (this.hang) return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason)));
    this.time += ms;
    return Promise.resolve();
  }
}

type Outcome = number | Error | { status: number; headers: Record<string, string> };

function response(status: number, headers: Record<string, string> = {}): MeshResponse {
  const body = {
    dumped: false,
    async dump(): Promise<void> {
      body.dumped = true;
    },
  };
  return { statusCode: status, headers, body } as unknown as MeshResponse;
}

function scripted(outcomes: Outcome[]): Service & { calls: Attempt[]; responses: MeshResponse[] } {
  const calls: Attempt[] = [];
  const responses: MeshResponse[] = [];
  return {
    calls,
    responses,
    async call(_request, ctx) {
      calls.push(ctx);
      // As the balancer does: the attempt learns where it went.
      ctx.endpoint = { origin: `endpoint-${calls.length}` } as Attempt['endpoint'];
      const next = outcomes[Math.min(calls.length - 1, outcomes.length - 1)]!;
      if (next instanceof Error) throw next;
      const res = typeof next === 'number' ? response(next) : response(next.status, next.headers);
      responses.push(res);
      return res;
    },
  };
}

const GET: MeshRequest = { method: 'GET', path: '/', headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined };
const POST: MeshRequest = { ...GET, method: 'POST', idempotent: false };
const refused = (): TransportError => new TransportError('connect-error', false, 'refused');
const reset = (): TransportError => new TransportError('reset', true, 'reset');

function setup(outcomes: Outcome[], retry: Partial<RetryPolicy> = {}, backoffMs = 10) {
  const clock = new InstantClock();
  const policy = testPolicy({ endpoints: ['127.0.0.1:1'], retry: { ...DEFAULT_RETRY, attempts: 3, ...retry } });
  const events = new MeshEventEmitter();
  const budget = createRetryBudget(policy, clock);
  const env: LayerEnv = { service: policy.name, clock, events, classifier: httpClassifier };
  const inner = scripted(outcomes);
  const service = new RetryingService(inner, policy.retry as RetryPolicy, env, budget, { delay: () => backoffMs });
  const ctx = (deadline = 10_000, signal?: AbortSignal) => attemptFor({ service: 'api', deadline, signal });
  return { clock, events, inner, service, ctx };
}

describe('retry rules', () => {
  it('never sleeps past the deadline: it stops and returns the last result instead', async () => {
    const { clock, inner, service, ctx } = setup([503], { attempts: 10 }, 100);
    const res = await service.call(GET, ctx(250));
    assert.equal(res.statusCode, 503);
    assert.deepEqual(clock.sleeps, [100, 100], 'a third wait would end at 300 ms, past the 250 ms deadline');
    assert.equal(inner.calls.length, 3);
    assert.ok(clock.now() < 250);
  });

  it('numbers attempts, avoids the last endpoint, and dumps replaced responses', async () => {
    const { inner, service, ctx } = setup([503, 502, 200]);
    const res = await service.call(GET, ctx());
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      inner.calls.map((c) => c.number),
      [1, 2, 3],
    );
    assert.deepEqual(
      inner.calls.map((c) => c.avoid?.origin),
      [undefined, 'endpoint-1', 'endpoint-2'],
    );
    const dumped = inner.responses.map((r) => (r.body as unknown as { dumped: boolean }).dumped);
    assert.deepEqual(dumped, [true, true, false], 'replaced responses are drained, the returned one is not');
  });

  it('resends a non-idempotent call only when it provably never left', async () => {
    const sent = setup([reset(), 200]);
    await assert.rejects(sent.service.call(POST, sent.ctx()), { code: 'MESH_UPSTREAM_FAILED', attempts: 1 });
    assert.equal(sent.inner.calls.length, 1);
    const notSent = setup([refused(), 200]);
    assert.equal((await notSent.service.call(POST, notSent.ctx())).statusCode, 200);
    const answered = setup([503, 200]);
    assert.equal((await answered.service.call(POST, answered.ctx())).statusCode, 503, 'a POST that got a 503 was processed');
  });

  it('only retries the configured conditions', async () => {
    const { inner, service, ctx } = setup([500, 200]);
    assert.equal((await service.call(GET, ctx())).statusCode, 500);
    assert.equal(inner.calls.length, 1);
  });

  it('lets MeshErrors from below through unchanged and unretried', async () => {
    const timeout = new MeshError('MESH_TIMEOUT', 'deadline');
    const { inner, service, ctx } = setup([timeout, 200]);
    await assert.rejects(service.call(GET, ctx()), (error) => error === timeout);
    assert.equal(inner.calls.length, 1);
  });

  it('turns a last per-try timeout into MESH_TIMEOUT with the attempt count', async () => {
    const { service, ctx } = setup([new TransportError('timeout', true, 'per-try')], { on: ['timeout'] });
    await assert.rejects(service.call(GET, ctx()), { code: 'MESH_TIMEOUT', attempts: 3 });
  });

  it('stops when the budget is empty, emits budget-exhausted and returns the last response', async () => {
    const { inner, events, service, ctx } = setup([503, 200], { budget: { ratio: 0, minPerSecond: 0, window: 10_000 } });
    let exhausted = 0;
    events.on('budget-exhausted', () => exhausted++);
    assert.equal((await service.call(GET, ctx())).statusCode, 503);
    assert.equal(exhausted, 1);
    assert.equal(inner.calls.length, 1);
  });

  it('waits what Retry-After asks when it is within maxRetryAfter, else stops', async () => {
    const asked = setup([{ status: 429, headers: { 'retry-after': '2' } }, 200], { on: ['429'], maxRetryAfter: 5_000 });
    assert.equal((await asked.service.call(GET, asked.ctx())).statusCode, 200);
    assert.deepEqual(asked.clock.sleeps, [2_000]);
    const tooLong = setup([{ status: 429, headers: { 'retry-after': '60' } }, 200], { on: ['429'], maxRetryAfter: 5_000 });
    assert.equal((await tooLong.service.call(GET, tooLong.ctx())).statusCode, 429);
    assert.deepEqual(tooLong.clock.sleeps, []);
  });

  it('rejects with the abort reason when the call is cancelled while waiting', async () => {
    const controller = new AbortController();
    const reason = new MeshError('MESH_ABORTED', 'caller went away');
    const { clock, service, ctx } = setup([503]);
    clock.hang = true;
    const pending = service.call(GET, ctx(10_000, controller.signal));
    while (clock.sleeps.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(reason);
    await assert.rejects(pending, (error) => isMeshError(error) && error === reason);
  });
});

describe('backoff and Retry-After parsing', () => {
  it('draws full jitter from [0, min(max, base·2^n))', () => {
    const top = fullJitterBackoff({ base: 10, max: 100 }, () => 0.999);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 60].map((n) => Math.round(top.delay(n))),
      [10, 20, 40, 80, 100, 100],
    );
    assert.equal(fullJitterBackoff({ base: 10, max: 100 }, () => 0).delay(3), 0);
  });

  it('reads seconds and HTTP-dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryAfterDelay('120'), 120_000);
    assert.equal(retryAfterDelay('Wed, 01 Jan 2025 00:00:30 GMT', () => now), 30_000);
    assert.equal(retryAfterDelay('Tue, 31 Dec 2024 23:00:00 GMT', () => now), 0);
    assert.equal(retryAfterDelay('soon'), undefined);
    assert.equal(retryAfterDelay(undefined), undefined);
  });
});
