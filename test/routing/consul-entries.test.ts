/**
 * Consul's documented config-entry bodies (api/config_entry_test.go TestDecodeConfigEntry, the
 * APICETEST bodies of CONSUL.md §6.3) and recorded compiled discovery chains (ui mock-api
 * virtual-admin-1…6, CONSUL.md §6.1), kept in test/fixtures/consul-entries/ (README there names
 * the source files and commits).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RouteMatcher, type RouteMatchSpec } from '../../src/routing/route-match.ts';
import type { RouteDefinition, RoutingModel } from '../../src/routing/route-types.ts';
import { compileSubsets, selectEndpoints } from '../../src/routing/subset.ts';
import { invalid, type Json, translate } from './consul-entry-helpers.ts';

function fixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/consul-entries/${name}`, import.meta.url), 'utf8')) as Json;
}

const unsupportedPaths = (model: RoutingModel): string[] => model.unsupported.map((u) => u.path);
const targetsOf = (route: RouteDefinition): [string, string | undefined, number][] => route.targets.map((t) => [t.target.service, t.target.subset, t.scaled]);
const resolver = (name: string, subsets: Record<string, string>): Json => ({ Kind: 'service-resolver', Name: name, Subsets: Object.fromEntries(Object.entries(subsets).map(([k, f]) => [k, { Filter: f }])) });

test('APICETEST "service-router: kitchen sink" is refused as Consul refuses it: Header[1] sets none of Present, Exact, Prefix, Suffix, Regex', () => {
  assert.deepEqual(invalid('main', fixture('service-router-kitchen-sink.json')), [
    { path: 'service-router/main', message: 'Route[0] Header[1] should only contain one of Present, Exact, Prefix, Suffix, or Regex' },
  ]);
});

test('APICETEST router kitchen sink (with Header[1] made valid): routes in order, then the implicit catch-all; each field translated or reported', () => {
  const router = fixture('service-router-kitchen-sink.json');
  const routes = structuredClone(router.Routes) as Json[];
  ((routes[0]!.Match as Json).HTTP as { Header: Json[] }).Header[1] = { Name: 'debug2', Present: true, Invert: true };
  const model = translate('main', { ...router, Routes: routes }, resolver('carrot', { kale: 'Service.Meta.leaf == kale' }));
  assert.deepEqual(
    model.routes.map((r) => r.name),
    ['route-0', 'route-1', 'route-2', 'default'],
  );
  const [first, second, third, fallback] = model.routes as [RouteDefinition, RouteDefinition, RouteDefinition, RouteDefinition];
  assert.deepEqual(first.match, {
    path: '/foo',
    headers: { debug1: { present: true }, debug2: { present: true, invert: true }, debug3: { exact: '1' }, debug4: { prefix: 'aaa' }, debug5: { suffix: 'bbb' }, debug6: { regex: 'a.*z' } },
  });
  assert.deepEqual(targetsOf(first), [['carrot', 'kale', 10_000]], 'a destination with ServiceSubset is not split further');
  assert.equal(first.prefixRewrite, '/alternate');
  assert.equal(first.timeout, 99_000);
  assert.deepEqual(first.retry, { attempts: 10, on: ['connect-error', '401', '209'] });
  assert.deepEqual(second.match, { pathPrefix: '/foo', methods: ['GET', 'DELETE'], query: { hack1: { present: true }, hack2: { exact: '1' }, hack3: { regex: 'a.*z' } } });
  assert.deepEqual(targetsOf(second), [['main', undefined, 10_000]], 'no Destination: the router\'s own service');
  assert.deepEqual(third.match, { pathRegex: '/foo' });
  assert.deepEqual(fallback.match, {});
  assert.deepEqual(unsupportedPaths(model), ['service-router/main.Routes[0].Destination.Namespace', 'service-router/main.Routes[0].Destination.NumRetries']);
  // The translated matches run as the router says: the query route catches what the header route does not.
  const matcher = new RouteMatcher(
    model.routes.map((r) => ({ match: r.match, value: r.name })),
    'x',
  );
  assert.equal(matcher.match({ method: 'DELETE', path: '/foo/x?hack1&hack2=1&hack3=abcz', headers: {} }), 'route-1');
  assert.equal(matcher.match({ method: 'GET', path: '/foo', headers: { debug1: '', debug3: '1', debug4: 'aaax', debug5: 'xbbb', debug6: 'abz' } }), 'route-0');
  assert.equal(matcher.match({ method: 'POST', path: '/foo', headers: {} }), 'route-2');
  assert.equal(matcher.match({ method: 'POST', path: '/bar', headers: {} }), 'default');
});

test('APICETEST "service-splitter: kitchen sink" + "subsets with failover": 99.1% to subset v1, 0.9% to service other; other namespaces reported', () => {
  const model = translate('main', fixture('service-splitter-kitchen-sink.json'), fixture('service-resolver-subsets-with-failover.json'));
  assert.equal(model.routes.length, 1, 'no router: only the catch-all');
  assert.deepEqual(targetsOf(model.routes[0]!), [
    ['main', 'v1', 9910],
    ['other', undefined, 90],
  ]);
  assert.ok(unsupportedPaths(model).includes('service-splitter/main.Splits[1].Namespace'));
});

test('APICETEST "service-resolver: subsets with failover": subsets by filter, default subset, failover to a service subset; datacenters and namespaces reported', () => {
  const model = translate('main', fixture('service-resolver-subsets-with-failover.json'), resolver('failcopy', { sure: '' }));
  const main = model.resolutions.main!;
  assert.deepEqual(main.subsets, { v1: { filter: 'Service.Meta.version == v1', onlyPassing: false }, v2: { filter: 'Service.Meta.version == v2', onlyPassing: true } });
  assert.equal(main.defaultSubset, 'v1');
  assert.equal(main.connectTimeout, 15_000);
  assert.deepEqual(main.failover, { v2: [{ service: 'failcopy', subset: 'sure' }], '*': [] });
  assert.deepEqual(unsupportedPaths(model).sort(), ['service-resolver/main.Failover.*.Datacenters', 'service-resolver/main.Failover.v2.Datacenters', 'service-resolver/main.Failover.v2.Namespace']);
  const subsets = compileSubsets(main.subsets, 'consul.main.subsets');
  const endpoints = [1, 2, 3].map((i) => ({ id: `10.0.0.${i}:80`, protocol: 'http' as const, host: `10.0.0.${i}`, port: 80, weight: 1, tags: [], meta: { version: i === 3 ? 'v2' : 'v1' } }));
  assert.deepEqual(
    selectEndpoints(subsets.get('v1')!, endpoints).map((e) => e.host),
    ['10.0.0.1', '10.0.0.2'],
  );
  assert.deepEqual(
    selectEndpoints(subsets.get('v2')!, endpoints).map((e) => e.host),
    ['10.0.0.3'],
  );
});

test('APICETEST "service-resolver: redirect": every target of main goes to other/backup; the namespace and datacenter are reported', () => {
  const model = translate('main', fixture('service-resolver-redirect.json'), resolver('other', { backup: 'Service.Tags contains backup' }));
  assert.deepEqual(targetsOf(model.routes[0]!), [['other', 'backup', 10_000]]);
  assert.deepEqual(unsupportedPaths(model).sort(), ['service-resolver/main.Redirect.Datacenter', 'service-resolver/main.Redirect.Namespace']);
});

test('APICETEST "service-resolver: default" and no entries at all: the default resolver (every instance, ConnectTimeout 5s) and one catch-all route', () => {
  for (const model of [translate('main', fixture('service-resolver-default.json')), translate('main')]) {
    assert.deepEqual(model.resolutions.main, { service: 'main', subsets: {}, defaultSubset: undefined, failover: {}, connectTimeout: 5000, requestTimeout: undefined, balancer: undefined });
    assert.deepEqual(
      model.routes.map((r) => [r.name, r.match, targetsOf(r)]),
      [['default', {}, [['main', undefined, 10_000]]]],
    );
    assert.deepEqual(model.unsupported, []);
  }
});

test('APICETEST "envoy hash lb kitchen sink": ring_hash maps to ring-hash with MinimumRingSize; cookie, source-IP and extra hash policies reported, none approximated', () => {
  const model = translate('main', fixture('service-resolver-envoy-hash-lb-kitchen-sink.json'));
  assert.deepEqual(model.resolutions.main!.balancer, { policy: 'ring-hash', hashOn: undefined, minRingSize: 1 });
  assert.deepEqual(unsupportedPaths(model), [
    'service-resolver/main.LoadBalancer.RingHashConfig.MaximumRingSize',
    'service-resolver/main.LoadBalancer.HashPolicies[0].Field',
    'service-resolver/main.LoadBalancer.HashPolicies[0].CookieConfig',
    'service-resolver/main.LoadBalancer.HashPolicies[0].Terminal',
    'service-resolver/main.LoadBalancer.HashPolicies[1]',
    'service-resolver/main.LoadBalancer.HashPolicies[1].CookieConfig',
    'service-resolver/main.LoadBalancer.HashPolicies[2]',
    'service-resolver/main.LoadBalancer.HashPolicies[3]',
  ]);
  const header = translate('main', { Kind: 'service-resolver', Name: 'main', LoadBalancer: { Policy: 'maglev', HashPolicies: [{ Field: 'header', FieldValue: 'X-User-ID' }] } });
  assert.deepEqual(header.resolutions.main!.balancer, { policy: 'ring-hash', hashOn: 'header:x-user-id', minRingSize: 1024 });
  assert.deepEqual(unsupportedPaths(header), ['service-resolver/main.LoadBalancer.Policy'], 'maglev is balanced by ring-hash, and says so');
});

test('APICETEST "envoy least request kitchen sink": least_request with ChoiceCount 2 is p2c-least-request, exactly', () => {
  const model = translate('main', fixture('service-resolver-envoy-least-request-kitchen-sink.json'));
  assert.deepEqual(model.resolutions.main!.balancer, { policy: 'p2c-least-request' });
  assert.deepEqual(model.unsupported, []);
  for (const [policy, balancer] of [
    ['round_robin', { policy: 'round-robin' }],
    ['random', { policy: 'random' }],
  ] as const) {
    assert.deepEqual(translate('main', { Kind: 'service-resolver', Name: 'main', LoadBalancer: { Policy: policy } }).resolutions.main!.balancer, balancer);
  }
});

test("entries Consul refuses are refused with Consul's messages at <kind>/<name>: weights, subsets, paths, methods, retries, redirects, policies", () => {
  const router = (route: Json): Json => ({ Kind: 'service-router', Name: 'web', Routes: [route] });
  const cases: [Json[], string, string][] = [
    [[{ Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 90 }, { Weight: 9.9, Service: 'b' }] }], 'service-splitter/web', 'the sum of all split weights must be 100, not 99.900002'],
    [[{ Kind: 'service-splitter', Name: 'web', Splits: [] }], 'service-splitter/web', 'no splits configured'],
    [[{ Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50 }, { Weight: 50, Service: 'web' }] }], 'service-splitter/web', 'split destination occurs more than once: service="web", subset="", namespace="", partition=""'],
    [[router({ Match: { HTTP: { PathExact: 'foo' } } })], 'service-router/web', 'Route[0] PathExact doesn\'t start with \'/\': "foo"'],
    [[router({ Match: { HTTP: { PathExact: '/a', PathPrefix: '/b' } } })], 'service-router/web', 'Route[0] should only contain at most one of PathExact, PathPrefix, or PathRegex'],
    [[router({ Match: { HTTP: { Methods: ['get', 'BREW'] } } })], 'service-router/web', 'Route[0] Methods contains an invalid method "BREW"'],
    [[router({ Match: { HTTP: { Methods: ['GET', 'get'] } } })], 'service-router/web', 'Route[0] Methods contains "GET" more than once'],
    [[router({ Match: { HTTP: { PathRegex: '/a.*' } }, Destination: { PrefixRewrite: '/' } })], 'service-router/web', 'Route[0] cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix'],
    [[router({ Destination: { RetryOn: ['sometimes'] } })], 'service-router/web', 'Route[0] contains an invalid retry condition: "sometimes"'],
    [[router({ Match: { HTTP: { QueryParam: [{ Name: 'q' }] } } })], 'service-router/web', 'Route[0] QueryParam[0] should only contain one of Present, Exact, or Regex'],
    [[router({ Destination: { ServiceSubset: 'v3' } })], 'service-router/web.Routes[0].Destination', 'service "web" has no subset "v3" (service-resolver/web defines none)'],
    [[{ Kind: 'service-resolver', Name: 'web', DefaultSubset: 'v9' }], 'service-resolver/web', 'DefaultSubset "v9" is not a valid subset'],
    [[{ Kind: 'service-resolver', Name: 'web', Redirect: { Service: 'x' }, Failover: { '*': { Service: 'y' } } }], 'service-resolver/web', 'Redirect and Failover cannot both be set'],
    [[{ Kind: 'service-resolver', Name: 'web', Redirect: { ServiceSubset: 'v1' } }], 'service-resolver/web', 'Redirect.ServiceSubset defined without Redirect.Service'],
    [[{ Kind: 'service-resolver', Name: 'web', Failover: { '*': {} } }], 'service-resolver/web', 'Bad Failover["*"]: one of Service, ServiceSubset, Namespace, Targets, or Datacenters is required'],
    [[{ Kind: 'service-resolver', Name: 'web', LoadBalancer: { Policy: 'fastest' } }], 'service-resolver/web', 'Bad LoadBalancer policy: "fastest" is not supported'],
    [[{ Kind: 'service-resolver', Name: 'web', LoadBalancer: { Policy: 'random', HashPolicies: [{ SourceIP: true }] } }], 'service-resolver/web', 'HashPolicies specified for non-hash-based Policy'],
    [[{ Kind: 'service-resolver', Name: 'web', Subsets: { v1: { Filter: 'Service.Meta.version ==' } } }], 'service-resolver/web', 'Filter for subset "v1" is not a valid expression: at offset 23: expected a value: a quoted string, a number or a bare word'],
  ];
  for (const [entries, path, message] of cases) {
    const issues = invalid('web', ...entries);
    assert.ok(
      issues.some((i) => i.path === path && i.message === message),
      `${JSON.stringify(entries)}\nexpected ${path}: ${message}\ngot ${JSON.stringify(issues)}`,
    );
  }
});

test('routes meshlet cannot evaluate (an RE2-only regex, two conditions on one header) are left out and reported, never approximated', () => {
  const model = translate('web', {
    Kind: 'service-router',
    Name: 'web',
    Routes: [
      { Match: { HTTP: { PathRegex: '/(?i)admin' } }, Destination: { Service: 'admin' } },
      { Match: { HTTP: { Header: [{ Name: 'x-a', Prefix: 'a' }, { Name: 'X-A', Suffix: 'z' }] } }, Destination: { Service: 'az' } },
      { Match: { HTTP: { PathPrefix: '/api' } }, Destination: { Service: 'api' } },
    ],
  });
  assert.deepEqual(
    model.routes.map((r) => r.name),
    ['route-2', 'default'],
  );
  assert.deepEqual(unsupportedPaths(model), ['service-router/web.Routes[0].Match.HTTP.pathRegex', 'service-router/web.Routes[1].Match.HTTP.Header[1]']);
  assert.match(model.unsupported[0]!.reason, /only \(\?:…\) groups are accepted.*the route is left out/);
});

test('nested splitters flatten with weights multiplied (the remainder to the first split); split header changes merge over the parent', () => {
  const model = translate(
    'web',
    { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 50, Service: 'canary', RequestHeaders: { Set: { 'X-Split': 'outer' } } }, { Weight: 50 }] },
    { Kind: 'service-splitter', Name: 'canary', Splits: [{ Weight: 33.33, Service: 'c1', RequestHeaders: { Add: { 'X-Inner': '1' } } }, { Weight: 33.33, Service: 'c2' }, { Weight: 33.34, Service: 'c3' }] },
  );
  assert.deepEqual(targetsOf(model.routes[0]!), [
    ['c1', undefined, 1667],
    ['c2', undefined, 1666],
    ['c3', undefined, 1667],
    ['web', undefined, 5000],
  ]);
  assert.deepEqual(model.routes[0]!.targets[0]!.target.requestHeaders, { add: { 'x-inner': '1' }, set: { 'x-split': 'outer' }, remove: [] });
});

/** A compiled chain's routes as [match, destination service, prefix rewrite, split weights in 1/10000]. */
function chainOutcome(chain: Json): [RouteMatchSpec | Json, string, string | undefined, number[]][] {
  const nodes = chain.Nodes as Record<string, Json>;
  const weights = (next: string): number[] => (nodes[next]!.Type === 'splitter' ? (nodes[next]!.Splits as Json[]).map((s) => Math.round((s.Weight as number) * 100)) : [10_000]);
  const start = nodes[chain.StartNode as string]!;
  if (start.Type !== 'router') return [[{}, chain.ServiceName as string, undefined, weights(chain.StartNode as string)]];
  const routes = start.Routes as Json[];
  return routes.map((route, index) => {
    const definition = route.Definition as Json;
    const http = ((definition.Match as Json | undefined)?.HTTP ?? {}) as Json;
    const destination = definition.Destination as Json;
    // The compiler writes its implicit catch-all (the last route) as PathPrefix "/", which matches every path: {}.
    const match = index === routes.length - 1 ? {} : http.PathPrefix !== undefined ? { pathPrefix: http.PathPrefix } : {};
    return [match, destination.Service as string, destination.PrefixRewrite as string | undefined, weights(route.NextNode as string)];
  });
}

/**
 * The entries a recorded chain was compiled from, reconstructed from it: its router's routes
 * (without the implicit last one) and one splitter per splitter node, each split to a service of
 * its own (the captures split across datacenters, which meshlet does not reach).
 */
function entriesOf(chain: Json): Json[] {
  const nodes = chain.Nodes as Record<string, Json>;
  const service = chain.ServiceName as string;
  const entries: Json[] = [];
  const start = nodes[chain.StartNode as string]!;
  const splitterFor = (name: string, next: string): void => {
    const node = nodes[next]!;
    if (node.Type !== 'splitter') return;
    entries.push({ Kind: 'service-splitter', Name: name, Splits: (node.Splits as Json[]).map((s, i) => ({ Weight: s.Weight, Service: `${name}-target-${i}` })) });
  };
  if (start.Type === 'router') {
    const routes = (start.Routes as Json[]).slice(0, -1);
    entries.push({ Kind: 'service-router', Name: service, Routes: routes.map((r) => r.Definition) });
    for (const route of routes) splitterFor((route.Definition as Json & { Destination: Json }).Destination.Service as string, route.NextNode as string);
  } else {
    splitterFor(service, chain.StartNode as string);
  }
  return entries;
}

for (const n of [1, 2, 3, 4, 5, 6]) {
  test(`recorded compiled chain virtual-admin-${n}: the translated entries route and split as Consul's compiler did`, () => {
    const chain = (fixture(`discovery-chain/virtual-admin-${n}.json`) as { Chain: Json }).Chain;
    const model = translate(chain.ServiceName as string, ...entriesOf(chain));
    const ours = model.routes.map((r) => [r.match, r.name === 'default' ? (chain.ServiceName as string) : routeService(r, chain.ServiceName as string), r.prefixRewrite, r.targets.map((t) => t.scaled)]);
    assert.deepEqual(ours, chainOutcome(chain));
  });
}

/** The destination service a route named before its splitter (the splitter's targets carry `<service>-target-i`). */
function routeService(route: RouteDefinition, fallback: string): string {
  const first = route.targets[0]!.target.service;
  return /-target-\d+$/.test(first) ? first.replace(/-target-\d+$/, '') : (first ?? fallback);
}
