/**
 * `subsets` and `routes` in the config (issue 11): what is accepted and resolved into the
 * policy, and every way a route can be wrong, each refused with MESH_CONFIG_INVALID at the
 * field that is wrong. Checks within one route run at validation (so `meshlet validate` sees
 * them); references to subsets and services run once the levels are merged.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';
import { configIssuesOf } from '../support/mesh-error.ts';

const P = 'services.payments';
const SUBSETS = { v1: { tags: ['v1'] }, v2: { meta: { version: '2' } } };
const withRoutes = (routes: unknown, extra: Record<string, unknown> = {}) => ({
  services: { payments: { endpoints: ['127.0.0.1:9001'], subsets: SUBSETS, routes, ...extra }, ledger: { endpoints: ['127.0.0.1:9002'] } },
});

const resolve = (document: unknown) => resolveConfig({ bootstrap: validateMeshConfig(document) });

test('a valid route table resolves with every default filled in', () => {
  const policy = resolve(
    withRoutes([
      { name: 'canary', match: { headers: { 'x-canary': '1' } }, to: [{ subset: 'v2' }], timeout: '300ms', retry: { attempts: 3 } },
      { match: { pathPrefix: '/v2', methods: ['get'] }, to: [{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 10 }], failover: [{ subset: 'v1' }] },
      { to: [{ service: 'ledger' }] },
    ]),
  ).services.get('payments')!;
  assert.deepEqual(policy.subsets, { v1: { tags: ['v1'], meta: {} }, v2: { tags: [], meta: { version: '2' } } });
  assert.equal(policy.routes.length, 3);
  const [canary, split, other] = policy.routes;
  assert.equal(canary!.name, 'canary');
  assert.deepEqual(canary!.to, [{ service: 'payments', subset: 'v2', weight: 100 }]);
  assert.equal(canary!.timeout, 300);
  // attempts from the route, conditions from the service's (built-in) retry
  assert.deepEqual(canary!.retry, { attempts: 3, on: ['connect-error', 'reset', '502', '503', '504'] });
  assert.equal(split!.name, 'route-1');
  assert.deepEqual(split!.failover, [{ service: 'payments', subset: 'v1' }]);
  assert.equal(split!.retry, undefined);
  assert.deepEqual(other!.to, [{ service: 'ledger', subset: undefined, weight: 100 }]);
  assert.deepEqual(resolve(withRoutes([])).services.get('ledger')!.routes, []);
});

const invalid: [name: string, routes: unknown, path: string, fragment: string][] = [
  ['weights not summing to 100', [{ to: [{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 20 }] }], `${P}.routes.0.to`, 'must be 100, not 110'],
  ['weight over 100', [{ to: [{ subset: 'v1', weight: 101 }] }], `${P}.routes.0.to.0.weight`, '≤ 100'],
  ['a weight missing among several', [{ to: [{ subset: 'v1', weight: 100 }, { subset: 'v2' }] }], `${P}.routes.0.to.1.weight`, 'required when a route has several targets'],
  ['no targets', [{ to: [] }], `${P}.routes.0.to`, 'at least one target'],
  ['bad path regex', [{ match: { pathRegex: '/(a' }, to: [{ subset: 'v1' }] }], `${P}.routes.0.match.pathRegex`, 'not an accepted regex'],
  ['bad header regex', [{ match: { headers: { 'x-user': { regex: '[' } } }, to: [{ subset: 'v1' }] }], `${P}.routes.0.match.headers.x-user.regex`, 'not an accepted regex'],
  ['two path kinds', [{ match: { path: '/a', pathPrefix: '/b' }, to: [{ subset: 'v1' }] }], `${P}.routes.0.match.pathPrefix`, 'at most one of path'],
  ['unknown method', [{ match: { methods: ['FETCH'] }, to: [{ subset: 'v1' }] }], `${P}.routes.0.match.methods.0`, 'not an HTTP method'],
  ['unknown key in a route', [{ to: [{ subset: 'v1' }], timout: '1s' }], `${P}.routes.0.timout`, 'did you mean "timeout"'],
  ['unknown key in a target', [{ to: [{ subset: 'v1', wieght: 100 }] }], `${P}.routes.0.to.0.wieght`, 'did you mean "weight"'],
  ['unknown key in a match', [{ match: { prefix: '/a' }, to: [{ subset: 'v1' }] }], `${P}.routes.0.match.prefix`, 'unknown key'],
  ['budget in a route retry', [{ to: [{ subset: 'v1' }], retry: { budget: false } }], `${P}.routes.0.retry.budget`, 'unknown key'],
  ['duplicate route name', [{ name: 'a', to: [{ subset: 'v1' }] }, { name: 'a', to: [{ subset: 'v2' }] }], `${P}.routes.1.name`, 'duplicate route name'],
  ['route name with a slash', [{ name: 'a/b', to: [{ subset: 'v1' }] }], `${P}.routes.0.name`, 'a route name'],
];

for (const [name, routes, path, fragment] of invalid) {
  test(`route config rejected: ${name}`, () => {
    const issues = configIssuesOf(() => validateMeshConfig(withRoutes(routes)));
    const found = issues.find((issue) => issue.path === path);
    assert.ok(found, `no issue at ${path}: ${JSON.stringify(issues)}`);
    assert.ok(found.message.includes(fragment), `${found.message} lacks ${fragment}`);
  });
}

const unresolvable: [name: string, routes: unknown, path: string, fragment: string][] = [
  ['unknown subset', [{ to: [{ subset: 'v1', weight: 50 }, { subset: 'v3', weight: 50 }] }], `${P}.routes.0.to.1.subset`, 'no subset "v3" in this service; known subsets: v1, v2'],
  ['unknown service', [{ to: [{ service: 'ledgr' }] }], `${P}.routes.0.to.0.service`, 'no service "ledgr"'],
  ['unknown subset of another service', [{ to: [{ service: 'ledger', subset: 'v2' }] }], `${P}.routes.0.to.0.subset`, 'define it under services.ledger.subsets'],
  ['unknown failover subset', [{ to: [{ subset: 'v2' }], failover: [{ subset: 'v9' }] }], `${P}.routes.0.failover.0.subset`, 'no subset "v9"'],
];

for (const [name, routes, path, fragment] of unresolvable) {
  test(`route config rejected once merged: ${name}`, () => {
    const issues = configIssuesOf(() => resolve(withRoutes(routes)));
    assert.deepEqual(issues.map((i) => i.path), [path]);
    assert.ok(issues[0]!.message.includes(fragment), issues[0]!.message);
  });
}

test('a subset without tags or meta is refused', () => {
  const issues = configIssuesOf(() => validateMeshConfig({ services: { payments: { endpoints: ['127.0.0.1:9001'], subsets: { all: {} } } } }));
  assert.deepEqual(issues.map((i) => i.path), [`${P}.subsets.all`]);
  assert.match(issues[0]!.message, /needs tags or meta/);
});

test('routes in the control store may name subsets the bootstrap defines; a control level replaces subsets whole', () => {
  const bootstrap = validateMeshConfig({ services: { payments: { endpoints: ['127.0.0.1:9001'], subsets: { v2: { tags: ['v2'] } } } } });
  const control = validateMeshConfig({ services: { payments: { routes: [{ to: [{ subset: 'v2' }] }] } } });
  assert.equal(resolveConfig({ bootstrap, control }).services.get('payments')!.routes[0]!.to[0]!.subset, 'v2');
  const replacing = validateMeshConfig({ services: { payments: { subsets: { v3: { meta: { v: '3' } } } } } });
  assert.deepEqual(resolveConfig({ bootstrap, control: replacing }).services.get('payments')!.subsets, { v3: { tags: [], meta: { v: '3' } } });
});
