/**
 * Router destination and split changes that would make requests no server reads are refused
 * when the entries are read, at their field path, instead of failing every call on the route:
 * a PrefixRewrite without a leading '/' or with a space, control or non-ASCII character, a header modifier whose name is not an RFC 9110 token,
 * whose value holds CR/LF/NUL, or (on requests) that changes a header framing the message, and
 * a RetryOnStatusCodes entry outside 100–599. (The mesh keeps the routing in force on a refusal:
 * test/integration/routing-consul.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { invalid, type Json, translate } from './consul-entry-helpers.ts';

const router = (destination: Json): Json => ({ Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/api/' } }, Destination: destination }] });
const at = 'service-router/web.Routes[0].Destination';

test("a PrefixRewrite without a leading '/', or with characters a request path cannot carry, is refused at its path", () => {
  const issues = invalid('web', router({ PrefixRewrite: 'v2/' }));
  assert.deepEqual(issues.map((i) => i.path), [`${at}.PrefixRewrite`]);
  assert.match(issues[0]!.message, /"v2\/" must start with '\/'/);
  assert.equal(translate('web', router({ PrefixRewrite: '/v2/' })).routes[0]!.prefixRewrite, '/v2/', 'a leading / is accepted');
  for (const bad of ['/v 2/', '/v2/\r\nX: y', '/café']) {
    const refused = invalid('web', router({ PrefixRewrite: bad }));
    assert.deepEqual(refused.map((i) => i.path), [`${at}.PrefixRewrite`], JSON.stringify(bad));
    assert.match(refused[0]!.message, /space, control or non-ASCII character/);
  }
  assert.equal(translate('web', router({ PrefixRewrite: '/caf%C3%A9/' })).routes[0]!.prefixRewrite, '/caf%C3%A9/', 'percent-encoded is fine');
});

test('header modifier names must be tokens, values free of CR, LF and NUL', () => {
  const issues = invalid(
    'web',
    router({
      RequestHeaders: { Add: { 'x ok': 'a' }, Set: { 'x-fine': 'one\r\nInjected: yes' }, Remove: ['bad:name'] },
      ResponseHeaders: { Set: { 'x-nul': 'a\0b' } },
    }),
  );
  assert.deepEqual(issues.map((i) => i.path), [
    `${at}.RequestHeaders.Add`,
    `${at}.RequestHeaders.Set.x-fine`,
    `${at}.RequestHeaders.Remove[0]`,
    `${at}.ResponseHeaders.Set.x-nul`,
  ]);
  assert.match(issues[0]!.message, /"x ok" is not a valid header name/);
  assert.match(issues[1]!.message, /CR, LF or NUL/);
});

test('a request change may not touch the headers that frame the message; a response change may', () => {
  for (const name of ['Host', 'content-length', 'Transfer-Encoding', 'connection']) {
    const issues = invalid('web', router({ RequestHeaders: { Set: { [name]: '1' } } }));
    assert.deepEqual(issues.map((i) => i.path), [`${at}.RequestHeaders.Set`], name);
    assert.match(issues[0]!.message, /frames the request/);
  }
  const model = translate('web', router({ ResponseHeaders: { Set: { connection: 'close' } } }));
  assert.deepEqual(model.routes[0]!.responseHeaders?.set, { connection: 'close' });
});

test("a split's header changes are checked the same way, at the split's path", () => {
  const splitter = { Kind: 'service-splitter', Name: 'web', Splits: [{ Weight: 100, RequestHeaders: { Add: { 'bad name': 'x' } } }] };
  assert.deepEqual(invalid('web', splitter).map((i) => i.path), ['service-splitter/web.Splits[0].RequestHeaders.Add']);
});

test('RetryOnStatusCodes outside 100–599 (or not integers) are refused at their index', () => {
  const issues = invalid('web', router({ NumRetries: 2, RetryOnStatusCodes: [503, 99, 600, 502.5, '504'] }));
  assert.deepEqual(issues.map((i) => i.path), [1, 2, 3, 4].map((j) => `${at}.RetryOnStatusCodes[${j}]`));
  assert.match(issues[0]!.message, /99 is not an HTTP status code \(an integer from 100 to 599\)/);
  const retry = translate('web', router({ NumRetries: 2, RetryOnStatusCodes: [100, 503, 599] })).routes[0]!.retry;
  assert.deepEqual(retry, { attempts: 3, on: ['100', '503', '599'] });
});
