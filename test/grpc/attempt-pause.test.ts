/**
 * A retry's pushback pause (attempt-transport.ts) ends with the attempt: a hedge race aborts its
 * loser through the attempt itself, and a loser still waiting out a pushback is never sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import type { InterceptorOptions, NextCall } from '@grpc/grpc-js';
import { Attempt } from '../../src/core/attempt.ts';
import { newCall } from '../../src/core/call-context.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { MeshResponse } from '../../src/core/service.ts';
import { GrpcAttemptService } from '../../src/transport/grpc/attempt-transport.ts';
import { type CallOwner, GrpcRequest } from '../../src/transport/grpc/grpc-request.ts';

describe('grpc pushback pause', () => {
  it('regression: an attempt aborted through itself during its pushback pause (a hedge loser) ends at once and is never sent', async () => {
    let sent = 0;
    const nextCall = (() => {
      sent++;
      throw new Error('the attempt was sent');
    }) as unknown as NextCall;
    const options = { method_definition: { path: '/shop.Inventory/GetItem' } } as unknown as InterceptorOptions;
    const owner: CallOwner = { cancelled: false, stream: undefined, attach() {}, detach() {} } as unknown as CallOwner;
    const request = new GrpcRequest(options, nextCall, new grpc.Metadata(), {}, true, owner, undefined);
    const now = systemClock.now();
    request.notBefore = now + 400;
    const attempt = Attempt.first(newCall('inventory', now, now + 10_000, undefined));
    const ended = new Promise<{ response?: MeshResponse; error?: unknown; at: number }>((resolve) => {
      new GrpcAttemptService(systemClock, false, 5000).send(request, attempt, {
        resolve: (response) => resolve({ response, at: performance.now() }),
        reject: (error) => resolve({ error, at: performance.now() }),
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lost = new Error('another attempt of this call answered first');
    const abortedAt = performance.now();
    attempt.abort(lost);
    const result = await ended;
    assert.equal(result.error, lost, 'the attempt ends with the reason it was aborted for');
    assert.ok(result.at - abortedAt < 100, `it ended ${Math.round(result.at - abortedAt)} ms after the abort (the pause was 400 ms)`);
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.equal(sent, 0, 'never sent after the pause');
  });
});
