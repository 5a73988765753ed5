import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gcFunction, leastAllocation } from '../../bench/support/allocation.ts';
import { translateConsulEntries } from '../../src/routing/consul-entries.ts';
import { Router } from '../../src/routing/router.ts';
import { xorshiftDraw } from '../../src/routing/xorshift-random.ts';

// A canary as ROUTERDOC/splitter docs describe it: test traffic by header to v2, the rest 90/10.
const entries: Record<string, unknown> = {
  'service-router/web': { Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { Header: [{ Name: 'x-canary', Exact: '1' }] } }, Destination: { ServiceSubset: 'v2', RequestTimeout: '2s', NumRetries: 2, RetryOnConnectFailure: true } }] },
  'service-splitter/web': { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 90, ServiceSubset: 'v1' }, { Weight: 10, ServiceSubset: 'v2' }] },
  'service-resolver/web': { Kind: 'service-resolver', Name: 'web', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == 1' }, v2: { Filter: 'Service.Meta.version == 2' } } },
};
const model = translateConsulEntries('web', (kind, name) => entries[`${kind}/${name}`]);

test('a router from Consul entries: the header route sends test traffic to the canary only, with its own timeout and retries', () => {
  const router = new Router(model);
  const draw = xorshiftDraw(10_000, 3);
  const canary = router.select({ method: 'GET', path: '/a', headers: { 'x-canary': '1' } });
  assert.equal(canary.definition.name, 'route-0');
  assert.equal(canary.definition.timeout, 2000);
  assert.deepEqual(canary.definition.retry, { attempts: 3, on: ['connect-error'] });
  for (let i = 0; i < 1000; i++) assert.equal(canary.pick(draw).subset, 'v2');
  const rest = router.select({ method: 'GET', path: '/a', headers: {} });
  assert.equal(rest.definition.name, 'default');
  assert.equal(rest.definition.timeout, undefined, 'the default route keeps the service timeout');
  let v2 = 0;
  for (let i = 0; i < 100_000; i++) if (rest.pick(draw).subset === 'v2') v2++;
  assert.ok(Math.abs(v2 / 100_000 - 0.1) < 0.01, `${v2} of 100,000 to v2`);
});

test('a decision (select + pick) allocates nothing', async (t) => {
  const router = new Router(model);
  const draw = xorshiftDraw(10_000, 9);
  const request = { method: 'GET', path: '/a?b=1', headers: { accept: '*/*' } };
  const run = async (): Promise<number> => {
    let n = 0;
    for (let i = 0; i < 100_000; i++) n += router.select(request).pick(draw).subset!.length;
    return n;
  };
  await run();
  const { bytes, result } = await leastAllocation(run, gcFunction());
  t.diagnostic(`${bytes} bytes allocated over 100,000 decisions (the least of 3 runs)`);
  assert.equal(result, 200_000);
  assert.ok(bytes < 100_000, `100,000 decisions allocated ${bytes} bytes`);
});

test('routes that do not end in a catch-all are refused: every call must have a route', () => {
  assert.throws(() => new Router({ service: 'web', routes: model.routes.slice(0, 1) }), /must end in a catch-all route/);
});
