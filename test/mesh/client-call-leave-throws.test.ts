/**
 * Regression (issue 8 review, finding 1): a synchronous throw from runtime.leave() on the send
 * path left the caller's promise unsettled (the reply counted itself settled before leave()
 * threw, so the reply that followed was dropped). The call must still settle with its own
 * result, leave() must run once, and the bug must surface off the call's stack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MeshRequest, type MeshResponse, NO_HEADERS, type Reply, type Service } from '../../src/core/service.ts';
import { runClientCall } from '../../src/mesh/client-call.ts';

const request: MeshRequest = { method: 'GET', path: '/', headers: NO_HEADERS, body: null, idempotent: true, replayable: true, hashKey: undefined };
const response = { statusCode: 200 } as MeshResponse;

function throwingRuntime(): { leave(): void; leaves: number } {
  return {
    leaves: 0,
    leave() {
      this.leaves++;
      throw new Error('leave bug');
    },
  };
}

/** Runs `run` with microtask throws caught, so the test process does not die of the surfaced bug. */
async function surfacing(run: () => Promise<unknown>): Promise<{ result: PromiseSettledResult<unknown>; surfaced: unknown[] }> {
  const surfaced: unknown[] = [];
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (task) =>
    original(() => {
      try {
        task();
      } catch (error) {
        surfaced.push(error);
      }
    });
  try {
    const settled = await Promise.race([
      run().then((value) => ({ status: 'fulfilled', value }) as const, (reason: unknown) => ({ status: 'rejected', reason }) as const),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the call never settled')), 500)),
    ]);
    await new Promise((resolve) => setImmediate(resolve));
    return { result: settled, surfaced };
  } finally {
    globalThis.queueMicrotask = original;
  }
}


function sendStack(answer: (reply: Reply) => void): Service {
  return { call: () => Promise.reject(new Error('send form expected')), send: (_request, _attempt, reply) => answer(reply) };
}

describe('runClientCall when runtime.leave() throws', () => {
  for (const [name, answer] of [
    ['a reply in the same turn', (reply: Reply) => reply.resolve(response)],
    ['a reply from a later callback', (reply: Reply) => setImmediate(() => reply.resolve(response))],
  ] as const) {
    it(`send path, ${name}: the caller gets the response, leave() runs once, the bug surfaces`, async () => {
      const runtime = throwingRuntime();
      const { result, surfaced } = await surfacing(() => runClientCall(sendStack(answer), request, 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime));
      assert.deepEqual(result, { status: 'fulfilled', value: response });
      assert.equal(runtime.leaves, 1);
      assert.deepEqual(surfaced.map((e) => (e as Error).message), ['leave bug']);
    });
  }

  it('send path, a failed call: the caller gets the call\'s MeshError, not the leave bug', async () => {
    const runtime = throwingRuntime();
    const failure = Object.assign(new Error('upstream'), { code: 'MESH_UPSTREAM_FAILED' });
    const { result, surfaced } = await surfacing(() => runClientCall(sendStack((reply) => reply.reject(failure)), request, 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime));
    assert.equal(result.status, 'rejected');
    assert.notEqual((result as PromiseRejectedResult).reason?.message, 'leave bug');
    assert.equal(runtime.leaves, 1);
    assert.equal(surfaced.length, 1);
  });

  it('promise path: the caller gets the response, leave() runs once', async () => {
    const runtime = throwingRuntime();
    const stack: Service = { call: () => Promise.resolve(response) };
    const { result, surfaced } = await surfacing(() => runClientCall(stack, request, 'svc', 0, Number.POSITIVE_INFINITY, undefined, runtime));
    assert.deepEqual(result, { status: 'fulfilled', value: response });
    assert.equal(runtime.leaves, 1);
    assert.equal(surfaced.length, 1);
  });
});
