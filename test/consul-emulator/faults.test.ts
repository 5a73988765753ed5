/**
 * Fault hooks and agent lifecycle: failNext answers the next N requests with a status, hangNext
 * leaves them unanswered until stop(), stop() refuses connections and drops parked queries,
 * start() comes back on the same port with the same state. Also the request log (never a token),
 * 405 with Allow, and the unknown-path 404 body.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { call, consulHttp, waitFor } from '../support/consul-emulator/wire-client.ts';
import { emulatorForTest } from './emulator-for-test.ts';

test('failNext answers the next N requests with the status and body, then recovers', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  consul.faults.failNext(2, 500, 'rpc error making call: No cluster leader');
  const first = await http.get('/v1/kv/k');
  assert.equal(first.status, 500);
  assert.equal(first.body, 'rpc error making call: No cluster leader');
  assert.equal((await http.get('/v1/health/service/x')).status, 500);
  assert.equal((await http.get('/v1/kv/k')).status, 404);
  consul.faults.failNext(1, 429);
  const limited = await http.get('/v1/kv/k');
  assert.equal(limited.status, 429);
  assert.equal(limited.body, '');
});

test('hangNext leaves requests unanswered until stop(); later requests are served', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  consul.faults.hangNext(1);
  let settled = false;
  const hung = http.get('/v1/kv/k').finally(() => {
    settled = true;
  });
  hung.catch(() => {});
  assert.equal((await http.get('/v1/kv/k')).status, 404, 'the next request is answered');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(settled, false, 'the hung request has no answer');
  await consul.stop();
  await assert.rejects(hung, /socket hang up|ECONNRESET/);
});

test('stop() refuses connections and drops parked queries; start() serves the same state on the same port', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  await http.put('/v1/kv/keep', 'me');
  const { index } = await http.get('/v1/kv/keep');
  const port = consul.port;
  const parked = http.get(`/v1/kv/keep?index=${index}&wait=5s`);
  parked.catch(() => {});
  await waitFor(() => consul.openBlockingQueries === 1);
  await consul.stop();
  await assert.rejects(parked);
  await assert.rejects(http.get('/v1/kv/keep'), /ECONNREFUSED/);
  assert.equal(consul.openBlockingQueries, 0);
  await consul.start();
  assert.equal(consul.port, port);
  const back = await http.get('/v1/kv/keep');
  assert.equal(back.status, 200);
  assert.equal(back.index, index);
});

test('the request log records method, path and query, and only whether a token was sent', async (t) => {
  const consul = await startConsulEmulator();
  t.after(() => consul.close());
  await call(consul.url, 'GET', '/v1/kv/a?recurse&index=3&wait=10ms&token=s3cret-query');
  await call(consul.url, 'GET', '/v1/health/service/web?passing', { headers: { 'X-Consul-Token': 's3cret-header' } });
  await call(consul.url, 'GET', '/v1/catalog/services');
  assert.deepEqual(
    consul.requests.map((r) => [r.method, r.path, r.token]),
    [
      ['GET', '/v1/kv/a', true],
      ['GET', '/v1/health/service/web', true],
      ['GET', '/v1/catalog/services', false],
    ],
  );
  assert.equal(consul.requests[0]?.query, 'recurse=&index=3&wait=10ms');
  assert.doesNotMatch(JSON.stringify(consul.requests), /s3cret/);
});

test('a method an endpoint does not serve is 405 with Allow; an unknown /v1 path is 404 with Consul’s body', async (t) => {
  const { consul, http } = await emulatorForTest(t);
  const wrong = await call(consul.url, 'POST', '/v1/kv/a');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, 'GET,PUT,DELETE');
  assert.equal(wrong.body, 'method POST not allowed');
  assert.equal((await http.put('/v1/health/service/x')).status, 405);
  const unknown = await http.get('/v1/nope');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body, 'Invalid URL path: not a recognized HTTP API endpoint\n');
  assert.equal(unknown.headers['x-consul-default-acl-policy'], 'allow');
});

test('?pretty indents JSON with four spaces and a trailing newline, as Consul does', async (t) => {
  const consul = await startConsulEmulator();
  t.after(() => consul.close());
  const res = await consulHttp(consul.url).get('/v1/catalog/services?pretty');
  assert.equal(res.body, '{\n    "consul": []\n}\n');
});

test('dc=dc1 is served, another datacenter is 500 No path to datacenter; ?filter is refused, not ignored', async (t) => {
  const { http } = await emulatorForTest(t);
  assert.equal((await http.get('/v1/health/service/x?dc=dc1')).status, 200);
  const other = await http.get('/v1/kv/k?dc=eu-west');
  assert.equal(other.status, 500);
  assert.equal(other.body, 'No path to datacenter');
  const filter = await http.get('/v1/health/service/x?filter=Service.Port%20%3D%3D%2080');
  assert.equal(filter.status, 500);
  assert.match(filter.body, /does not implement \?filter/);
});
