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
