/**
 * routingModelFromConfig: a resolved service's routes become the route model the Router
 * compiles, with Consul's weight scaling, the implicit default route, and every named
 * service's subsets; a service without routes has no model (no routing step at all).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/config/resolve.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';
import { routingModelFromConfig } from '../../src/routing/from-config.ts';
import { Router } from '../../src/routing/router.ts';

const services = resolveConfig({
  bootstrap: validateMeshConfig({
    services: {
      payments: {
        endpoints: ['127.0.0.1:9001'],
        subsets: { v1: { tags: ['v1'] }, v2: { meta: { version: '2' } } },
        routes: [
          { name: 'canary', match: { headers: { 'x-canary': '1' } }, to: [{ subset: 'v2' }], timeout: '250ms' },
          { name: 'split', match: { pathPrefix: '/api' }, to: [{ subset: 'v1', weight: 99.1 }, { subset: 'v2', weight: 0.9 }], failover: [{ service: 'ledger' }] },
        ],
      },
      ledger: { endpoints: ['127.0.0.1:9002'], subsets: { blue: { tags: ['blue'] } } },
    },
  }),
}).services;

test('a routed service translates to a model the Router compiles, ending in the implicit default route', () => {
  const model = routingModelFromConfig(services.get('payments')!, services)!;
  assert.deepEqual(model.routes.map((r) => r.name), ['canary', 'split', 'default']);
  assert.deepEqual(model.routes[1]!.targets.map((t) => [t.target.subset, t.scaled]), [['v1', 9910], ['v2', 90]]);
  assert.deepEqual(model.routes[1]!.failover, [{ service: 'ledger', subset: undefined }]);
  assert.equal(model.routes[0]!.timeout, 250);
  assert.deepEqual(model.routes[2]!.targets.map((t) => [t.target.service, t.target.subset, t.scaled]), [['payments', undefined, 10_000]]);
  assert.deepEqual(Object.keys(model.resolutions).sort(), ['ledger', 'payments']);
  assert.deepEqual(model.resolutions.ledger!.subsets, { blue: { tags: ['blue'], meta: {} } });
  const router = new Router(model);
  const request = (path: string, headers: Record<string, string> = {}) => ({ method: 'GET', path, headers });
  assert.equal(router.select(request('/x', { 'x-canary': '1' })).definition.name, 'canary');
  assert.equal(router.select(request('/api/pay')).definition.name, 'split');
  assert.equal(router.select(request('/other')).definition.name, 'default');
});

test('a service without routes has no routing model', () => {
  assert.equal(routingModelFromConfig(services.get('ledger')!, services), undefined);
});
