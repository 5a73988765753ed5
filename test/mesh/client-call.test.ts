/**
 * The client's end of a call in the callback form (mesh/client-call.ts): each call's promise
 * gets its own resolving functions though they are taken out of the Promise constructor
 * through shared slots, also when a stack starts another call from inside its `send` (the
 * slots are emptied before the stack runs), and a synchronous throw from the stack rejects
 * the caller's promise with a MeshError while the runtime hears the call's end once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError, TransportError } from '../../src/core/errors.ts';
import { type MeshRequest, type MeshResponse, NO_HEADERS, type Reply, type Service } from '../../src/core/service.ts';
import { systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { RetryPolicy } from '../../src/config/policy.ts';
import { runClientCall } from '../../src/mesh/client-call.ts';
import { retryLayer } from '../../src/resilience/retry.ts';
import { createRetryBudget } from '../../src/resilience/retry-budget.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';
import { policyWith } from '../support/policy.ts';

const request = (path: string): MeshRequest => ({ method: 'GET', path, headers: NO_HEADERS, body: null, idempotent: true, replayable: true, hashKey: undefined });
const RETRY: RetryPolicy = { attempts: 2, backoff: { base: 1, max: 1 }, on: ['connect-error', 'reset', '503'], budget: false, maxRetryAfter: 10_000 };
const answer = (path: string) => ({ statusCode: 200, statusText: path }) as MeshResponse;

function counting(): { leave(): void; leaves: number } {
  return {
    leaves: 0,
    leave() {
      this.leaves++;
    },
  };
}

describe('runClientCall, callback form', () => {
  it('a call started from inside another call\'s send settles with its own answer, and so does the outer one', async () => {
    const runtime = counting();
    let inner: Promise<MeshResponse> | undefined;
    const stack: Service = {
      call: () => Promise.reject(new Error('send form expected')),
      send(sent, _attempt, reply: Reply) {
        // The outer call starts a second one before it answers (a layer could, a test stack does).
        if (sent.path === '/outer') inner = runClientCall(stack, request('/inner'), 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime);
        reply.resolve(answer(sent.path));
      },
    };
    const outer = await runClientCall(stack, request('/outer'), 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime);
    assert.equal(outer.statusText, '/outer');
    assert.equal((await inner!).statusText, '/inner');
    assert.equal(runtime.leaves, 2);
  });

  it('a stack that throws in send rejects the call with a MeshError, the runtime hearing its end once', async () => {
    const runtime = counting();
    const stack: Service = {
      call: () => Promise.reject(new Error('send form expected')),
      send() {
        throw new Error('layer bug');
      },
    };
    await assert.rejects(runClientCall(stack, request('/'), 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime), (error: unknown) => isMeshError(error));
    assert.equal(runtime.leaves, 1);
    // The next call is unaffected by the one that threw.
    const ok: Service = { call: () => Promise.reject(new Error('unused')), send: (sent, _attempt, reply) => reply.resolve(answer(sent.path)) };
    assert.equal((await runClientCall(ok, request('/next'), 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime)).statusText, '/next');
  });

  it("the retry layer judges the first try on the call's own reply: a retryable answer is retried, a final one settles, each call once", async () => {
    const runtime = counting();
    const answers = [503, 200, 404];
    const seen: number[] = [];
    let replies = 0;
    const inner: Service = {
      call: (_sent, attempt) => {
        seen.push(attempt.number);
        return Promise.resolve({ statusCode: answers.shift()!, statusText: 'retry', headers: {}, body: { destroy() {}, dump: () => Promise.resolve() } } as unknown as MeshResponse);
      },
      send(_sent, attempt, reply) {
        seen.push(attempt.number);
        replies++;
        // No reply of the retry layer's own: the call's reply comes down as it is.
        assert.equal(typeof reply.judgeFirstTry, 'function');
        reply.resolve({ statusCode: answers.shift()!, statusText: 'first', headers: {}, body: { destroy() {}, dump: () => Promise.resolve() } } as unknown as MeshResponse);
      },
    };
    const env = { service: 'svc', clock: systemClock, events: new MeshEventEmitter(), classifier: httpClassifier };
    const policy = policyWith({ name: 'svc' });
    const stack = retryLayer(RETRY, env, createRetryBudget(policy, systemClock)).wrap(inner);
    const retried = await runClientCall(stack, request('/'), 'svc', systemClock.now(), 5_000, undefined, runtime);
    assert.deepEqual([retried.statusCode, retried.statusText, seen], [200, 'retry', [1, 2]]);
    const final = await runClientCall(stack, request('/'), 'svc', systemClock.now(), 5_000, undefined, runtime);
    assert.deepEqual([final.statusCode, final.statusText, seen, replies, runtime.leaves], [404, 'first', [1, 2, 1], 2, 2]);
  });

  it('a layer below the retry layer that throws from send fails the call with that bug, never retried', async () => {
    const runtime = counting();
    let sends = 0;
    const inner: Service = {
      call: () => assert.fail('a thrown bug is not retried'),
      send() {
        sends++;
        // A bug whose error looks like a retryable failure: judged as a first try's, it would be retried.
        throw new TransportError('connect-error', false, 'layer bug');
      },
    };
    const env = { service: 'svc', clock: systemClock, events: new MeshEventEmitter(), classifier: httpClassifier };
    const policy = policyWith({ name: 'svc' });
    const stack = retryLayer(RETRY, env, createRetryBudget(policy, systemClock)).wrap(inner);
    await assert.rejects(runClientCall(stack, request('/'), 'svc', systemClock.now(), 5_000, undefined, runtime), (error: unknown) => isMeshError(error) && /layer bug/.test(String((error as Error).cause ?? error.message)));
    assert.equal(sends, 1);
    assert.equal(runtime.leaves, 1);
  });
});
