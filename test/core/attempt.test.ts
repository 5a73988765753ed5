/**
 * The attempt's own state (core/attempt.ts), which it keeps in one small integer rather than a
 * field per flag: each of hedge, armed, responded and aborted reads back as set and leaves the
 * others alone; a per-try limit's error names the limit, a deadline's the call's deadline; the
 * listener on the followed signal goes when the attempt is disposed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import { isMeshError, TransportError } from '../../src/core/errors.ts';

const call = (signal?: AbortSignal) => newCall('api', 0, 1_000, signal);

describe('attempt', () => {
  it('reads back each flag as set, and setting one leaves the others alone', () => {
    const hedged = new Attempt(call(), 2, true, undefined, undefined);
    assert.deepEqual([hedged.hedge, hedged.armed, hedged.responded, hedged.aborted], [true, false, false, false]);
    const plain = Attempt.first(call());
    assert.equal(plain.hedge, false);
    plain.arm(50, true);
    plain.responded = true;
    assert.deepEqual([plain.hedge, plain.armed, plain.responded, plain.aborted], [false, true, true, false]);
    plain.responded = false;
    assert.deepEqual([plain.hedge, plain.armed, plain.responded, plain.aborted], [false, true, false, false]);
    plain.abort(new Error('gone'));
    assert.deepEqual([plain.hedge, plain.armed, plain.responded, plain.aborted], [false, true, false, true]);
  });

  it("a limit's error says which limit: the per-try timeout by its ms, before and after the head, or the call's deadline", () => {
    const perTry = Attempt.first(call());
    perTry.arm(40, true);
    perTry.expire();
    assert.ok(perTry.reason instanceof TransportError && /exceeded its 40 ms per-try timeout/.test(perTry.reason.message), String(perTry.reason));
    const inBody = Attempt.first(call());
    inBody.arm(40, true);
    inBody.responded = true;
    inBody.expire();
    assert.ok(isMeshError(inBody.reason) && inBody.reason.code === 'MESH_TIMEOUT' && /40 ms per-try timeout while the response body was read/.test(inBody.reason.message), String(inBody.reason));
    const deadline = Attempt.first(call());
    deadline.arm(1_000, false);
    deadline.expire();
    assert.ok(isMeshError(deadline.reason) && deadline.reason.code === 'MESH_TIMEOUT' && /1000 ms/.test(deadline.reason.message), String(deadline.reason));
    deadline.abort(new Error('later'));
    assert.ok(isMeshError(deadline.reason), 'an attempt aborts once');
  });

  it('follows its signal while armed, and no longer once disposed', () => {
    const followed = new AbortController();
    const aborted = Attempt.first(call(followed.signal));
    aborted.arm(1_000, false);
    followed.abort();
    assert.ok(aborted.aborted && isMeshError(aborted.reason) && aborted.reason.code === 'MESH_ABORTED');

    const later = new AbortController();
    const disposed = Attempt.first(call(later.signal));
    disposed.arm(1_000, false);
    disposed.dispose();
    later.abort();
    assert.equal(disposed.aborted, false, 'a disposed attempt no longer listens');
  });
});
