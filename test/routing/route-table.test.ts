/**
 * RouteTable: the routing step's lookup from a route's drawn target to what serves it. Each
 * target of each route is served by its own serving (so a route's timeout and retries are its
 * own), calls are counted per target, and a model whose routes share one target object is
 * refused rather than served with one route's stack for both.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RouteDefinition, RouteTarget } from '../../src/routing/route-types.ts';
import { RouteTable } from '../../src/routing/route-table.ts';
import { Router } from '../../src/routing/router.ts';
import { xorshiftDraw } from '../../src/routing/xorshift-random.ts';

const target = (subset: string): RouteTarget => ({ service: 'web', subset, requestHeaders: undefined, responseHeaders: undefined });
const route = (name: string, match: RouteDefinition['match'], targets: RouteTarget[]): RouteDefinition => ({
  name,
  match,
  targets: targets.map((t, i) => ({ target: t, scaled: i === 0 ? 10_000 - 5000 * (targets.length - 1) : 5000 })),
  timeout: undefined,
  perTryTimeout: undefined,
  retry: undefined,
  prefixRewrite: undefined,
  requestHeaders: undefined,
  responseHeaders: undefined,
});
const serving = (label: string) => ({ served: label, servedBy: () => label, failoverPicks: () => 0 });

test("each route's targets are served by their own serving, and counted", () => {
  const model = { service: 'web', routes: [route('admin', { pathPrefix: '/admin' }, [target('v2')]), route('rest', {}, [target('v1'), target('v2')])] };
  const table = new RouteTable(new Router(model), (t, index) => serving(`${model.routes[index]!.name}:${t.subset}`), xorshiftDraw(10_000, 7));
  const request = (path: string) => ({ method: 'GET', path, headers: {} });
  assert.equal(table.route(request('/admin/x')), 'admin:v2');
  const rest = new Set(Array.from({ length: 50 }, () => table.route(request('/x'))));
  assert.deepEqual([...rest].sort(), ['rest:v1', 'rest:v2']);
  const state = table.state() as { name: string; targets: { calls: number; weight: number }[] }[];
  assert.deepEqual(state.map((r) => [r.name, r.targets.map((t) => t.weight)]), [['admin', [100]], ['rest', [50, 50]]]);
  assert.equal(state[1]!.targets[0]!.calls + state[1]!.targets[1]!.calls, 50);
});

test('routes sharing one target object are refused', () => {
  const shared = target('v1');
  const model = { service: 'web', routes: [route('a', { pathPrefix: '/a' }, [shared]), route('b', {}, [shared])] };
  assert.throws(() => new RouteTable(new Router(model), (t) => serving(String(t.subset))), /route 'b' of 'web' shares a target object/);
});
