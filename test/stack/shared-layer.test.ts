/**
 * shareAcrossTargets: one layer instance (its state) judging the calls of several stacks. An
 * unconfigured layer shares nothing and adds nothing (each stack gets its inner service back);
 * a configured one is one state for all: a rate limit's tokens spent by one target's calls are
 * gone for another's, and each call continues on its own stack with the caller's own request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MeshRequest, MeshResponse, Service } from '../../src/core/service.ts';
import { shareAcrossTargets } from '../../src/stack/shared-layer.ts';
import { attemptFor } from '../support/attempt.ts';
import { policyWith } from '../support/policy.ts';
import { layerNamed } from './layers.ts';

function recording(name: string, seen: [string, MeshRequest][]): Service {
  return {
    call: (request) => {
      seen.push([name, request]);
      return Promise.resolve({ statusCode: 200, statusText: 'OK', headers: {}, trailers: {}, body: undefined } as unknown as MeshResponse);
    },
  };
}

const request: MeshRequest = { method: 'GET', path: '/a?b=1', headers: { 'x-k': 'v' }, body: null, idempotent: true, replayable: true, hashKey: undefined };

describe('shareAcrossTargets', () => {
  it('an unconfigured layer hands each stack its inner service itself', () => {
    const shared = shareAcrossTargets(layerNamed('rate-limit'));
    const inner = recording('a', []);
    assert.equal(shared.wrap(inner), inner);
    // The later stacks too (a gRPC client's after the service's HTTP stack).
    const later = recording('b', []);
    assert.equal(shared.wrap(later), later);
  });

  it("the first stack's calls enter the shared layer as they are; a later stack's carry their own inner stack", async () => {
    const policy = policyWith({ rateLimit: { rps: 0.001, burst: 3, scope: 'local', redis: undefined } });
    const shared = shareAcrossTargets(layerNamed('rate-limit', policy));
    const seen: [string, MeshRequest][] = [];
    const http = shared.wrap(recording('http', seen));
    const grpc = shared.wrap(recording('grpc', seen));
    await http.call(request, attemptFor());
    await grpc.call(request, attemptFor());
    await http.call(request, attemptFor());
    assert.deepEqual(seen.map(([name]) => name), ['http', 'grpc', 'http']);
    assert.ok(seen.every(([, r]) => r === request));
    assert.notEqual(http.constructor.name, 'SharedEntry', 'the first stack gets the wrapped layer itself');
    assert.equal(grpc.constructor.name, 'SharedEntry');
  });

  it("one rate limit for every target: tokens one target's calls spend are gone for the other's", async () => {
    const policy = policyWith({ rateLimit: { rps: 0.001, burst: 2, scope: 'local', redis: undefined } });
    const shared = shareAcrossTargets(layerNamed('rate-limit', policy));
    const seen: [string, MeshRequest][] = [];
    const blue = shared.wrap(recording('blue', seen));
    const green = shared.wrap(recording('green', seen));
    await blue.call(request, attemptFor());
    await green.call(request, attemptFor());
    await assert.rejects(blue.call(request, attemptFor()), (error: { code?: string }) => error.code === 'MESH_RATE_LIMITED');
    await assert.rejects(green.call(request, attemptFor()), (error: { code?: string }) => error.code === 'MESH_RATE_LIMITED');
    // each call went on down its own stack, with the caller's request object itself
    assert.deepEqual(seen.map(([name]) => name), ['blue', 'green']);
    assert.ok(seen.every(([, r]) => r === request));
    assert.ok(shared.state !== undefined);
    assert.equal((shared.state() as { shed: number }).shed, 2);
  });
});
