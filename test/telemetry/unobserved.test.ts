/**
 * What telemetry does while nobody observes (no SDK in this process, no channel subscriber):
 * nothing. The two telemetry layers hand the transport the caller's own request, attempt and
 * reply objects (no wrapper, no copy, the callback form kept), and the call carries no record.
 * A subscriber that arrives later sees the next call, and leaving stops it again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Attempt } from '../../src/core/attempt.ts';
import { NO_ATTRIBUTES } from '../../src/core/call-context.ts';
import { systemClock } from '../../src/core/clock.ts';
import { MeshEventEmitter } from '../../src/core/events.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../../src/core/service.ts';
import { NO_HEADERS } from '../../src/core/service.ts';
import { observableStack } from '../../src/telemetry/telemetry-stack.ts';
import { httpClassifier } from '../../src/transport/http/classifier.ts';
import { attemptFor } from '../support/attempt.ts';

const env = { service: 'api', clock: systemClock, events: new MeshEventEmitter(), classifier: httpClassifier };
const request: MeshRequest = { method: 'GET', path: '/', headers: NO_HEADERS, body: null, idempotent: true, replayable: true, hashKey: undefined };

/** A transport stand-in with the callback form: records what it was handed and answers 200. */
function transport(): Service & { seen: Array<{ request: MeshRequest; attempt: Attempt; reply: Reply }> } {
  const seen: Array<{ request: MeshRequest; attempt: Attempt; reply: Reply }> = [];
  return {
    seen,
    call: () => Promise.reject(new Error('the callback form must be used')),
    send(req, attempt, reply) {
      seen.push({ request: req, attempt, reply });
      reply.resolve({ statusCode: 200 } as MeshResponse);
    },
  };
}

function reply(): Reply & { results: unknown[] } {
  const results: unknown[] = [];
  return { results, resolve: (response) => results.push(response), reject: (error) => results.push(error) };
}

describe('telemetry while nobody observes', () => {
  it('keeps the callback form and hands the transport the very request, attempt and reply it was given', () => {
    const inner = transport();
    const stack = observableStack([], env, inner);
    assert.equal(typeof stack.send, 'function');
    const attempt = attemptFor();
    const caller = reply();
    stack.send!(request, attempt, caller);
    assert.equal(inner.seen.length, 1);
    assert.equal(inner.seen[0]!.request, request);
    assert.equal(inner.seen[0]!.attempt, attempt);
    assert.equal(inner.seen[0]!.reply, caller, 'no reply wrapper: nothing allocated per call');
    assert.equal(inner.seen[0]!.attempt.call.attributes, NO_ATTRIBUTES);
    assert.equal(caller.results.length, 1);
  });

  it('a subscriber that arrives later sees the next call; after it leaves, calls pass untouched again', () => {
    const inner = transport();
    const stack = observableStack([], env, inner);
    const ends: unknown[] = [];
    const onEnd = (message: unknown) => ends.push(message);
    diagnosticsChannel.subscribe('meshlet:attempt:end', onEnd);
    const observed = reply();
    stack.send!(request, attemptFor(), observed);
    diagnosticsChannel.unsubscribe('meshlet:attempt:end', onEnd);
    assert.equal(ends.length, 1);
    assert.notEqual(inner.seen[0]!.attempt.call.attributes, NO_ATTRIBUTES, 'the observed call carries its record');
    assert.equal(observed.results.length, 1);
    const caller = reply();
    stack.send!(request, attemptFor(), caller);
    assert.equal(inner.seen[1]!.reply, caller);
    assert.equal(ends.length, 1);
  });

  it('offers only the promise form above a layer that has only it', async () => {
    const inner: Service = { call: () => Promise.resolve({ statusCode: 204 } as MeshResponse) };
    const waiting = { name: 'waits', wrap: (below: Service): Service => ({ call: (req, attempt) => below.call(req, attempt) }) };
    const stack = observableStack([waiting], env, inner);
    assert.equal(stack.send, undefined);
    assert.equal((await stack.call(request, attemptFor())).statusCode, 204);
  });
});
