/**
 * The client's end of a call in the callback form (mesh/client-call.ts): each call's promise
 * gets its own resolving functions though they are taken out of the Promise constructor
 * through shared slots, also when a stack starts another call from inside its `send` (the
 * slots are emptied before the stack runs), and a synchronous throw from the stack rejects
 * the caller's promise with a MeshError while the runtime hears the call's end once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import { isMeshError } from '../../src/core/errors.ts';
import { type MeshRequest, type MeshResponse, NO_HEADERS, type Reply, type Service } from '../../src/core/service.ts';
import { runClientCall } from '../../src/mesh/client-call.ts';

const request = (path: string): MeshRequest => ({ method: 'GET', path, headers: NO_HEADERS, body: null, idempotent: true, replayable: true, hashKey: undefined });
const first = () => Attempt.first(newCall('svc', 0, Number.POSITIVE_INFINITY, undefined));
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
        if (sent.path === '/outer') inner = runClientCall(stack, request('/inner'), first(), runtime);
        reply.resolve(answer(sent.path));
      },
    };
    const outer = await runClientCall(stack, request('/outer'), first(), runtime);
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
    await assert.rejects(runClientCall(stack, request('/'), first(), runtime), (error: unknown) => isMeshError(error));
    assert.equal(runtime.leaves, 1);
    // The next call is unaffected by the one that threw.
    const ok: Service = { call: () => Promise.reject(new Error('unused')), send: (sent, _attempt, reply) => reply.resolve(answer(sent.path)) };
    assert.equal((await runClientCall(ok, request('/next'), first(), runtime)).statusText, '/next');
  });
});
