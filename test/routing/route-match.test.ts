import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gcFunction, leastAllocation } from '../../bench/support/allocation.ts';
import { type MatchableRequest, type RouteMatchSpec, RouteMatcher } from '../../src/routing/route-match.ts';
import { compileSafeRegex } from '../../src/routing/safe-regex.ts';
import { configIssuesOf } from '../support/mesh-error.ts';

const gc = gcFunction();

function req(path: string, method = 'GET', headers: Record<string, string | string[]> = {}): MatchableRequest {
  return { method, path, headers };
}

function matcher(...specs: RouteMatchSpec[]): RouteMatcher<number> {
  return new RouteMatcher(
    specs.map((match, i) => ({ match, value: i })),
    'services.api.routes',
  );
}

test('first matching route wins; no route matches gives undefined', () => {
  const m = matcher({ pathPrefix: '/v2' }, { pathPrefix: '/' });
  assert.equal(m.match(req('/v2/users')), 0);
  assert.equal(m.match(req('/v1/users')), 1);
  assert.equal(matcher({ pathPrefix: '/v2' }).match(req('/v1')), undefined);
  assert.equal(matcher({}).match(req('/anything')), 0, 'an empty match is a catch-all');
});

test('path is exact on the path without its query; pathPrefix is a plain string prefix, case-sensitive', () => {
  const exact = matcher({ path: '/foo' });
  assert.equal(exact.match(req('/foo')), 0);
  assert.equal(exact.match(req('/foo?x=1')), 0);
  assert.equal(exact.match(req('/foo/')), undefined);
  assert.equal(exact.match(req('/fo')), undefined);
  assert.equal(exact.match(req('/FOO')), undefined);
  const prefix = matcher({ pathPrefix: '/api' });
  assert.equal(prefix.match(req('/api')), 0);
  assert.equal(prefix.match(req('/apiary')), 0, 'a string prefix, not a segment prefix (Envoy prefix)');
  assert.equal(prefix.match(req('/ap?i=1')), undefined, 'the prefix may not reach into the query');
});

test('pathRegex must match the whole path, never the query', () => {
  const m = matcher({ pathRegex: '/v[12]/.*' });
  assert.equal(m.match(req('/v1/users')), 0);
  assert.equal(m.match(req('/v2/users?v=3')), 0);
  assert.equal(m.match(req('/v3/users')), undefined);
  assert.equal(m.match(req('/x/v1/users')), undefined, 'anchored at the start');
  const noQuery = matcher({ pathRegex: '/a/[^/]+' });
  assert.equal(noQuery.match(req('/a/b?c=/d')), 0);
  assert.equal(noQuery.match(req('/a/b/c')), undefined, 'anchored at the end');
  assert.equal(matcher({ pathRegex: '/a.b' }).match(req('/a?b')), undefined, '"." cannot consume the "?" that starts the query');
});

test('methods: any listed method matches; unset matches every method', () => {
  const m = matcher({ methods: ['get', 'DELETE'] });
  assert.equal(m.match(req('/', 'GET')), 0);
  assert.equal(m.match(req('/', 'DELETE')), 0);
  assert.equal(m.match(req('/', 'POST')), undefined);
  assert.equal(m.match(req('/', 'PROPFIND')), undefined, 'a method outside the list, and outside HTTP_METHODS');
  assert.equal(matcher({ pathPrefix: '/' }).match(req('/', 'PROPFIND')), 0, 'no methods: every method, even unknown ones');
});

test('headers: names case-insensitive; exact, prefix, suffix, present, regex; invert flips, including for an absent header', () => {
  const m = matcher({ headers: { 'X-Canary': '1' } }, { headers: { 'x-env': { prefix: 'stag' } } }, { headers: { 'x-env': { suffix: '-eu' } } }, { headers: { 'x-debug': { present: true } } }, { headers: { 'x-user': { regex: 'u-[0-9]+' } } });
  assert.equal(m.match(req('/', 'GET', { 'x-canary': '1' })), 0);
  assert.equal(m.match(req('/', 'GET', { 'x-canary': '2' })), undefined);
  assert.equal(m.match(req('/', 'GET', { 'x-env': 'staging' })), 1);
  assert.equal(m.match(req('/', 'GET', { 'x-env': 'prod-eu' })), 2);
  assert.equal(m.match(req('/', 'GET', { 'x-debug': '' })), 3);
  assert.equal(m.match(req('/', 'GET', { 'x-user': 'u-42' })), 4);
  assert.equal(m.match(req('/', 'GET', { 'x-user': 'u-42x' })), undefined, 'regex is a full match');
  const inverted = matcher({ headers: { 'x-canary': { exact: '1', invert: true } } });
  assert.equal(inverted.match(req('/', 'GET', { 'x-canary': '1' })), undefined);
  assert.equal(inverted.match(req('/', 'GET', { 'x-canary': '0' })), 0);
  assert.equal(inverted.match(req('/')), 0, 'an inverted condition on an absent header holds');
  const absent = matcher({ headers: { 'x-debug': { present: true, invert: true } } });
  assert.equal(absent.match(req('/')), 0);
  assert.equal(absent.match(req('/', 'GET', { 'x-debug': '1' })), undefined);
  const repeated = matcher({ headers: { 'x-tag': 'a,b' } });
  assert.equal(repeated.match(req('/', 'GET', { 'x-tag': ['a', 'b'] })), 0, 'a repeated header is matched on its values joined by ","');
});

test('query: exact, present, regex; scanned in the path, first occurrence wins, percent-escapes decoded', () => {
  const m = matcher({ query: { hack1: { present: true } } }, { query: { hack2: '1' } }, { query: { hack3: { regex: 'a.*z' } } });
  assert.equal(m.match(req('/?hack1')), 0);
  assert.equal(m.match(req('/?x=1&hack1=')), 0);
  assert.equal(m.match(req('/?hack10=1')), undefined, 'a longer name is another parameter');
  assert.equal(m.match(req('/?hack2=1&y=2')), 1);
  assert.equal(m.match(req('/?hack2=11')), undefined);
  assert.equal(m.match(req('/?hack2=2&hack2=1')), undefined, 'the first occurrence wins');
  assert.equal(m.match(req('/?y=1&hack3=abcz&w=q')), 2);
  assert.equal(m.match(req('/?hack3=abc&z=1')), undefined, 'the regex stops at the value\'s "&"');
  assert.equal(m.match(req('/?hack3=a%26z')), 2, 'an escaped value is decoded before the regex');
  assert.equal(matcher({ query: { q: 'a b' } }).match(req('/?q=a%20b')), 0);
  assert.equal(matcher({ query: { q: 'x' } }).match(req('/q=x')), undefined, 'no "?", no query');
});

test('all conditions of a route must hold', () => {
  const m = matcher({ pathPrefix: '/v2', methods: ['GET'], headers: { 'x-canary': '1' }, query: { debug: { present: true } } });
  assert.equal(m.match(req('/v2/a?debug', 'GET', { 'x-canary': '1' })), 0);
  assert.equal(m.match(req('/v2/a?debug', 'POST', { 'x-canary': '1' })), undefined);
  assert.equal(m.match(req('/v2/a', 'GET', { 'x-canary': '1' })), undefined);
  assert.equal(m.match(req('/v2/a?debug', 'GET')), undefined);
});

test('invalid route specs are rejected with their path, every problem listed', () => {
  const issues = configIssuesOf(() =>
    matcher({ path: 'foo' }, { path: '/a', pathPrefix: '/b' }, { methods: ['GET', 'BREW', 'get'] }, { headers: { 'x-a': { exact: '1', prefix: '2' } } }, { pathRegex: '(a+)+' }, { query: { q: { present: false } } }),
  );
  const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
  assert.match(byPath['services.api.routes[0].match.path']!, /must start with "\/"/);
  assert.match(byPath['services.api.routes[1].match.pathPrefix']!, /at most one of path, pathPrefix or pathRegex/);
  assert.match(byPath['services.api.routes[2].match.methods[1]']!, /"BREW" is not an HTTP method/);
  assert.match(byPath['services.api.routes[2].match.methods[2]']!, /listed more than once/);
  assert.match(byPath['services.api.routes[3].match.headers.x-a']!, /exactly one of exact, prefix, suffix, present or regex \(has exact, prefix\)/);
  assert.match(byPath['services.api.routes[4].match.pathRegex']!, /backtrack catastrophically/);
  assert.match(byPath['services.api.routes[5].match.query.q']!, /exactly one of/);
});

test('regex rule: patterns JS and RE2 disagree on, or that nest repetitions, are rejected; the agreed subset compiles', () => {
  const rejected = ['(?=a)b', '(?!a)', '(?<=a)b', '(?<n>a)', '(?i)a', '(a)\\1', '\\k<n>', '[[:alpha:]]', '[]a]', 'a{1001}', 'a{', '\\Aa', '\\z', '\\p{L}', '\\u0041', '\\x{41}', '(a+)+', '(a*)*', '(\\w+\\d)*', '((ab)*c)+', 'a^b', 'a$b', 'a*+'];
  for (const pattern of rejected) assert.equal(compileSafeRegex(pattern).ok, false, pattern);
  const accepted = ['a.*z', '/v[12]/.*', '^/api/(users|orders)/[0-9]+$', '(ab)+', '(?:a|b){2,5}', '\\d{3}-\\w+', '[^/]+', 'x\\.y', '\\x41'];
  for (const pattern of accepted) assert.equal(compileSafeRegex(pattern).ok, true, pattern);
});

test('regex rule: "." and \\s take RE2\'s meaning, not JS\'s', () => {
  const dot = compileSafeRegex('a.b');
  assert.ok(dot.ok);
  dot.regex.lastIndex = 0;
  assert.equal(dot.regex.test('a\rb'), true, 'RE2 "." matches \\r (JS "." does not)');
  const space = compileSafeRegex('a\\sb');
  assert.ok(space.ok);
  space.regex.lastIndex = 0;
  assert.equal(space.regex.test('a\u00a0b'), false, 'RE2 \\s is ASCII whitespace only');
});

test('a match allocates nothing: 100,000 matches over 20 routes (the last matching, with a query and a regex) grow the heap by ~0', async (t) => {
  const routes: RouteMatchSpec[] = [];
  for (let i = 0; i < 19; i++) routes.push({ pathPrefix: `/svc${i}/`, methods: ['GET', 'POST'], headers: { 'x-tenant': `t${i}` }, query: { v: String(i) } });
  routes.push({ pathRegex: '/orders/[0-9]+', methods: ['GET'], headers: { 'x-canary': { prefix: 'on' } }, query: { v: { regex: '[0-9]+' } } });
  const m = matcher(...routes);
  const request = req('/orders/12345?sort=asc&v=2', 'GET', { 'x-canary': 'on', 'x-tenant': 'acme' });
  assert.equal(m.match(request), 19);
  const run = async (): Promise<number> => {
    let hits = 0;
    for (let i = 0; i < 100_000; i++) hits += m.matchIndex(request);
    return hits;
  };
  await run(); // warm up: compiled code, inline caches
  const { result, bytes } = await leastAllocation(run, gc);
  assert.equal(result, 19 * 100_000);
  t.diagnostic(`${bytes} bytes allocated over 100,000 matches (the least of 3 runs)`);
  assert.ok(bytes < 100_000, `100,000 matches allocated ${bytes} bytes (one 16-byte object per match would be 1.6 MB)`);
});

test('the allocation measure sees per-call garbage (control for the test above)', async () => {
  const path = '/orders/12345?sort=asc&v=2';
  const run = async (): Promise<number> => {
    let hits = 0;
    for (let i = 0; i < 100_000; i++) hits += new URLSearchParams(path.slice(path.indexOf('?'))).get('v') === '2' ? 1 : 0;
    return hits;
  };
  await run();
  const { bytes } = await leastAllocation(run, gc);
  assert.ok(bytes > 1_000_000, `a URLSearchParams per call allocated only ${bytes} bytes (the least of 3 runs)`);
});

test("a header condition on a name Object's prototype has (constructor, __proto__) sees it absent when the caller did not send it, instead of throwing a TypeError per call", () => {
  const m = matcher({ headers: { constructor: { prefix: 'x' } } }, { headers: JSON.parse('{"__proto__": {"present": true, "invert": true}}') }, {});
  assert.equal(m.match(req('/')), 1, 'constructor absent, __proto__ absent (inverted present holds)');
  assert.equal(m.match(req('/', 'GET', { constructor: 'xyz' })), 0, 'a header the caller sent is matched as usual');
});
