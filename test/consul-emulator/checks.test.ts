/**
 * The agent's check runner (CONSUL.md §2.3): TTL expiry turns a check critical, HTTP checks are
 * polled every Interval (2xx passing, 429 warning, anything else critical), and the
 * DeregisterCriticalServiceAfter reaper removes a service critical for longer than that.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulHttp, waitFor } from '../support/consul-emulator/wire-client.ts';
import { startBackend } from '../support/http-backend.ts';
import { emulatorForTest } from './emulator-for-test.ts';

interface Entry {
  Service: { ID: string };
  Checks: { CheckID: string; Status: string; Output: string; Type: string; Interval: string }[];
}

async function checkOf(http: ReturnType<typeof consulHttp>, service: string, checkId: string) {
  const entries = (await http.get(`/v1/health/service/${service}`)).json<Entry[]>();
  return entries.flatMap((e) => e.Checks).find((c) => c.CheckID === checkId);
}

test('a TTL check not renewed within its TTL turns critical with TTL expired', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/agent/service/register', { Name: 'ttl', Check: { TTL: '500ms', Status: 'passing' } });
  assert.equal((await checkOf(http, 'ttl', 'service:ttl'))?.Status, 'passing');
  // Renewing keeps it passing past the first TTL (200 ms of slack either side for a loaded machine).
  await new Promise((resolve) => setTimeout(resolve, 300));
  await http.put('/v1/agent/check/pass/service:ttl');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal((await checkOf(http, 'ttl', 'service:ttl'))?.Status, 'passing');
  const { index } = await http.get('/v1/health/service/ttl');
  const woke = await http.get(`/v1/health/service/ttl?index=${index}&wait=2s`);
  const check = woke.json<Entry[]>()[0]?.Checks.find((c) => c.CheckID === 'service:ttl');
  assert.equal(check?.Status, 'critical');
  assert.match(check?.Output ?? '', /TTL expired/);
});

test('an HTTP check follows the target: 2xx passing, 429 warning, 500 critical', async (t) => {
  let status = 200;
  const target = await startBackend((_req, res) => {
    res.statusCode = status;
    res.end('state');
  });
  const consul = await startConsulEmulator();
  t.after(async () => {
    await consul.close();
    await target.close();
  });
  const http = consulHttp(consul.url);
  await http.put('/v1/agent/service/register', {
    Name: 'probe',
    Check: { HTTP: `${target.url}/health`, Interval: '30ms', Timeout: '1s' },
  });
  const statusNow = async () => (await checkOf(http, 'probe', 'service:probe'))?.Status;
  await waitFor(async () => (await statusNow()) === 'passing');
  const check = await checkOf(http, 'probe', 'service:probe');
  assert.equal(check?.Type, 'http');
  assert.equal(check?.Interval, '30ms');
  status = 429;
  await waitFor(async () => (await statusNow()) === 'warning');
  status = 500;
  await waitFor(async () => (await statusNow()) === 'critical');
  assert.ok(target.received.length >= 3, 'the check polled the target');
});

test('an HTTP check on a port nobody listens on is critical', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/agent/service/register', {
    Name: 'dead',
    Check: { HTTP: 'http://127.0.0.1:1/health', Interval: '50ms', Status: 'passing' },
  });
  await waitFor(async () => (await checkOf(http, 'dead', 'service:dead'))?.Status === 'critical');
});

test('DeregisterCriticalServiceAfter: the reaper removes a service critical for longer than that', async (t) => {
  const { http } = await emulatorForTest(t, { reaper: { intervalMs: 20, minimumMs: 0 } });
  await http.put('/v1/agent/service/register', {
    Name: 'reaped',
    Check: { TTL: '10s', DeregisterCriticalServiceAfter: '100ms' },
  });
  await http.put('/v1/agent/service/register', { Name: 'kept', Check: { TTL: '10s', DeregisterCriticalServiceAfter: '100ms', Status: 'passing' } });
  const started = performance.now();
  await waitFor(async () => (await http.get('/v1/health/service/reaped')).json<Entry[]>().length === 0);
  assert.ok(performance.now() - started >= 80, 'not reaped before the deadline');
  assert.equal((await http.get('/v1/health/service/kept')).json<Entry[]>().length, 1, 'a passing service stays');
});

test('the reaper honours Consul’s floor (default 1 m) over a shorter DeregisterCriticalServiceAfter', async (t) => {
  const { http } = await emulatorForTest(t, { reaper: { intervalMs: 20 } });
  await http.put('/v1/agent/service/register', { Name: 'floor', Check: { TTL: '10s', DeregisterCriticalServiceAfter: '10ms' } });
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal((await http.get('/v1/health/service/floor')).json<Entry[]>().length, 1);
});

test('several checks get IDs service:<id>:1, :2; the instance is passing only when all are', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/agent/service/register', { Name: 'multi', Checks: [{ TTL: '10s' }, { TTL: '10s' }] });
  await http.put('/v1/agent/check/pass/service:multi:1');
  assert.deepEqual((await http.get('/v1/health/service/multi?passing')).json(), []);
  await http.put('/v1/agent/check/pass/service:multi:2');
  assert.equal((await http.get('/v1/health/service/multi?passing')).json<Entry[]>().length, 1);
});

test('a TTL update on an HTTP check is refused', async (t) => {
  const { http } = await emulatorForTest(t);
  await http.put('/v1/agent/service/register', { Name: 'h', Check: { HTTP: 'http://127.0.0.1:1/', Interval: '10s' } });
  const res = await http.put('/v1/agent/check/pass/service:h');
  assert.equal(res.status, 500);
  assert.equal(res.body, 'CheckID "service:h" does not have associated TTL');
});
