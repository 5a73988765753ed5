/**
 * The retry layer's callback form (core/service.ts `send`), which a default stack runs every
 * call on: the first try's result is judged where it is delivered (inside the transport's
 * callback, synchronously), a final one goes straight back, and anything else goes on to the
 * same retry loop as the promise form, from the next microtask. A scripted inner service with
 * the callback form replies synchronously, as the HTTP transport does from undici's callback.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attempt } from '../../src/core/attempt.ts';
import { systemClock } from '../../src/core/clock.ts';
import { isMeshError, TransportError } from '../../src/core/errors.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { LayerEnv } from '../../src/core/layer-env.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../../src/core/service.ts';
import type { RetryPolicy } from '../../src/config/policy.ts';
import { RetryingService } from '../../src/resilience/retry.ts';
import { createRetryBudget } from '../../src/resilience/retry-budget.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';
import { attemptFor } from '../support/attempt.ts';
import { DEFAULT_RETRY, testPolicy } from './retry-harness.ts';

const GET: MeshRequest = { method: 'GET', path: '/', headers: {}, body: null, idempotent: true, replayable: true, hashKey: undefined };

function answer(status: number): MeshResponse {
  return { statusCode: status, headers: {}, body: { dump: async () => {}, destroy: () => {} } } as unknown as MeshResponse;
}

/** Replies synchronously with the next scripted status or error; records each attempt. */
function scripted(script: (number | Error)[]): Service & { attempts: Attempt[]; inReply: boolean[] } {
  const attempts: Attempt[] = [];
  const inReply: boolean[] = [];
  let replying = false;
  const next = (): number | Error => script[Math.min(attempts.length - 1, script.length - 1)]!;
  return {
    attempts,
    inReply,
    call(_request, attempt) {
      attempts.push(attempt);
      inReply.push(replying);
      const result = next();
      return result instanceof Error ? Promise.reject(result) : Promise.resolve(answer(result));
    },
    send(_request, attempt, reply: Reply) {
      attempts.push(attempt);
      inReply.push(replying);
      const result = next();
      replying = true;
      if (result instanceof Error) reply.reject(result);
      else reply.resolve(answer(result));
      replying = false;
    },
  };
}

function retrying(inner: Service): RetryingService {
  const policy = testPolicy({ endpoints: ['127.0.0.1:1'], retry: { ...DEFAULT_RETRY, attempts: 3 } });
  const env: LayerEnv = { service: policy.name, clock: systemClock, events: new MeshEventEmitter(), classifier: httpClassifier };
  return new RetryingService(inner, policy.retry as RetryPolicy, env, createRetryBudget(policy, systemClock), { delay: () => 0 });
}

function sent(service: Service): Promise<MeshResponse> {
  const now = systemClock.now();
  return new Promise((resolve, reject) => service.send!(GET, attemptFor({ startedAt: now, deadline: now + 5_000 }), { resolve, reject }));
}

describe('retry layer, callback form', () => {
  it('is offered only over an inner service that has it', () => {
    assert.equal(typeof retrying(scripted([200])).send, 'function');
    assert.equal(retrying({ call: scripted([200]).call }).send, undefined);
  });

  it('hands a final first response straight back, on the first attempt itself', async () => {
    const inner = scripted([200]);
    const response = await sent(retrying(inner));
    assert.equal(response.statusCode, 200);
    assert.deepEqual(
      inner.attempts.map((a) => a.number),
      [1],
    );
  });

  it('retries a 503 on a fresh attempt, started outside the reply that delivered the 503', async () => {
    const inner = scripted([503, 200]);
    const service = retrying(inner);
    const response = await sent(service);
    assert.equal(response.statusCode, 200);
    assert.deepEqual(
      inner.attempts.map((a) => a.number),
      [1, 2],
    );
    assert.notEqual(inner.attempts[1], inner.attempts[0]);
    assert.deepEqual(inner.inReply, [false, false], 'the retry did not start inside the first reply');
  });

  it('gives the caller a MeshError for a transport failure it may not retry', async () => {
    const inner = scripted([new TransportError('connect-error', false, 'refused')]);
    const post = { ...GET, method: 'POST', idempotent: false, replayable: false };
    const service = retrying(inner);
    const now = systemClock.now();
    await assert.rejects(
      new Promise((resolve, reject) => service.send!(post, attemptFor({ startedAt: now, deadline: now + 5_000 }), { resolve, reject })),
      (error: unknown) => isMeshError(error) && error.code === 'MESH_UPSTREAM_FAILED',
    );
    assert.equal(inner.attempts.length, 1);
  });
});
