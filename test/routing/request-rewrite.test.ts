import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshRequest } from '../../src/core/service.ts';
import { requestRewriteFor } from '../../src/routing/request-rewrite.ts';
import type { RouteDefinition, RouteTarget } from '../../src/routing/route-types.ts';

const target: RouteTarget = { service: 'api', subset: undefined, requestHeaders: undefined, responseHeaders: undefined };

function routeAdding(add: Record<string, string>): RouteDefinition {
  return {
    name: 'r',
    match: {},
    targets: [{ target, scaled: 10_000 }],
    timeout: undefined,
    perTryTimeout: undefined,
    retry: undefined,
    prefixRewrite: undefined,
    requestHeaders: { add, set: {}, remove: [] },
    responseHeaders: undefined,
  };
}

const request: MeshRequest = { method: 'GET', path: '/', headers: { 'x-a': '1' }, body: null, idempotent: true, replayable: true, hashKey: undefined };

test("an added header named like a property of Object's prototype (constructor) is the added value alone, not appended to the prototype's function", () => {
  const rewrite = requestRewriteFor(routeAdding({ constructor: 'v', 'x-a': '2' }), target)!;
  const headers = rewrite(request).headers;
  assert.equal(headers.constructor, 'v');
  assert.deepEqual(headers['x-a'], ['1', '2'], 'an existing header is appended to as before');
});

function routeRemoving(remove: string[]): RouteDefinition {
  return { ...routeAdding({}), requestHeaders: { add: {}, set: {}, remove } };
}

test('a POST idempotent only by its Idempotency-Key is not resent once the route removes the key (the server could not tell a resend from a new charge)', () => {
  const rewrite = requestRewriteFor(routeRemoving(['Idempotency-Key']), target)!;
  const post: MeshRequest = { ...request, method: 'POST', headers: { 'idempotency-key': 'k1' }, idempotent: true };
  const sent = rewrite(post);
  assert.equal(sent.headers['idempotency-key'], undefined);
  assert.equal(sent.idempotent, false);
  // A method idempotent by RFC 9110 stays so; a POST whose key is kept stays so.
  assert.equal(rewrite({ ...post, method: 'PUT' }).idempotent, true);
  assert.equal(requestRewriteFor(routeRemoving(['x-other']), target)!(post).idempotent, true);
});
