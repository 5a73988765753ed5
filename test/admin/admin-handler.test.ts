/**
 * mesh.adminHandler() over real loopback HTTP against a real mesh: its paths under any prefix,
 * the answers to bad input (unknown path, wrong method, a hostile URL), the security headers,
 * who may see it (loopback peers; with a token, only its holders; never by X-Forwarded-For),
 * and that no secret reaches state.json, config.json or the page.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { eventually } from '../support/waits.ts';
import { type AdminServer, manualStore, startAdminServer } from './admin-server.ts';

const SECRET = 'hunter2-admin-secret';

/** A raw GET (any path bytes, any method), as fetch() would normalise what a hostile client sends. */
function raw(url: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('mesh.adminHandler()', () => {
  let backend: Backend;
  let mesh: Mesh;
  let store: ReturnType<typeof manualStore>;
  let open: AdminServer;
  let prefixed: AdminServer;
  let remote: AdminServer;
  let tokened: AdminServer;
  let remoteTokened: AdminServer;

  before(async () => {
    backend = await startBackend();
    store = manualStore();
    mesh = await createMesh({
      service: 'admin-test',
      control: store,
      consul: { token: SECRET },
      config: { services: { 'admin-pay': { endpoints: [backend.address], breaker: { errorRate: 0.5, minRequests: 5 }, concurrency: { max: 4 } } } },
    });
    // A push the mesh refuses, quoting a URL with a password: the reason is shown, the password never.
    store.push({ services: { 'admin-pay': { endpoints: [`http://user:${SECRET}@127.0.0.1:1/?token=${SECRET}`], retry: { attempts: 'x' } } } });
    await eventually(() => (mesh.state().config as { rejections: number }).rejections === 1, 'the push rejected');
    open = await startAdminServer(mesh.adminHandler());
    prefixed = await startAdminServer(mesh.adminHandler(), { prefix: '/ops/admin' });
    remote = await startAdminServer(mesh.adminHandler(), { peer: '203.0.113.7' });
    tokened = await startAdminServer(mesh.adminHandler({ token: SECRET }));
    remoteTokened = await startAdminServer(mesh.adminHandler({ token: SECRET }), { peer: '::ffff:198.51.100.9' });
    for (let i = 0; i < 5; i++) await (await mesh.client('admin-pay').request({ path: '/' })).body.text();
  });

  after(async () => {
    for (const server of [open, prefixed, remote, tokened, remoteTokened]) await server?.close();
    await mesh?.close();
    await backend?.close();
  });

  it('serves the dashboard, state.json and config.json at / and under a prefix', async () => {
    for (const base of [open.url, prefixed.url]) {
      const page = await fetch(base);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
      assert.match(await page.text(), /<title>meshlet admin<\/title>/);
      const state = (await (await fetch(`${base}state.json`)).json()) as { service: string; services: Record<string, { thresholds: { breaker: { errorRate: number } } }> };
      assert.equal(state.service, 'admin-test');
      assert.equal(state.services['admin-pay']!.thresholds.breaker.errorRate, 0.5);
      const config = (await (await fetch(`${base}config.json`)).json()) as { services: Record<string, unknown>; rejections: { issues: { path: string }[] }[] };
      assert.ok(config.services['admin-pay']);
      assert.ok(config.rejections[0]!.issues.some((issue) => issue.path.includes('retry.attempts')), JSON.stringify(config.rejections));
    }
    assert.equal((await fetch(`${prefixed.url}index.html`)).status, 200);
  });

  it('answers an unknown path 404, a write 405 with Allow, HEAD without a body, a bad URL 400', async () => {
    const missing = await raw(open.url, '/secrets.txt');
    assert.equal(missing.status, 404);
    assert.match(missing.body, /serves \.\/ \(the dashboard\), \.\/state\.json and \.\/config\.json/);
    const post = await raw(open.url, '/state.json', 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await raw(open.url, '/state.json', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal((await raw(open.url, '//[')).status, 400);
    // A hostile query is ignored, never echoed.
    const hostile = await raw(open.url, `/state.json?x=${'%3Cscript%3E'.repeat(500)}&token=%ZZ&__proto__=1`);
    assert.equal(hostile.status, 200);
    assert.ok(!hostile.body.includes('<script>'));
  });

  it('sends nosniff and a Content-Security-Policy with no external source on every answer', async () => {
    for (const path of ['/', '/state.json', '/config.json', '/nope']) {
      const res = await raw(open.url, path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', path);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, path);
      assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval/, path);
    }
  });

  it('refuses a non-loopback peer with 403, whatever X-Forwarded-For says', async () => {
    for (const path of ['/', '/state.json', '/config.json', '/nope']) {
      const res = await raw(remote.url, path, 'GET', { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' });
      assert.equal(res.status, 403, path);
      assert.match(res.body, /loopback clients only; configure adminHandler\(\{ token \}\)/);
      assert.ok(!res.body.includes('admin-pay'));
    }
  });

  it('with a token, asks everyone for it (loopback too) and takes it as Bearer or ?token=', async () => {
    const none = await raw(tokened.url, '/state.json');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Bearer/);
    assert.equal((await raw(tokened.url, '/state.json', 'GET', { authorization: 'Bearer wrong-token-value' })).status, 401);
    assert.equal((await raw(tokened.url, '/state.json', 'GET', { authorization: `Bearer ${SECRET}x` })).status, 401);
    assert.equal((await raw(tokened.url, '/state.json', 'GET', { authorization: `Bearer ${SECRET}` })).status, 200);
    assert.equal((await raw(remoteTokened.url, '/state.json', 'GET', { authorization: `bearer ${SECRET}` })).status, 200);
    assert.equal((await raw(remoteTokened.url, `/?token=${SECRET}`)).status, 200);
    assert.equal((await raw(remoteTokened.url, '/?token=nope')).status, 401);
  });

  it('rejects a token it could not use safely', () => {
    for (const token of ['', 'short', 'has a space in it', 42]) {
      assert.throws(() => mesh.adminHandler({ token } as { token: string }), { code: 'MESH_BAD_REQUEST' });
    }
  });

  it('serves no secret: no Consul token, URL password or secret query value on any page', async () => {
    for (const path of ['/', '/state.json', '/config.json']) {
      const res = await raw(open.url, path);
      assert.equal(res.status, 200);
      assert.ok(!res.body.includes(SECRET), `${path} shows the secret`);
    }
    // The rejection is shown with its reason (the mesh says the address held credentials, not which).
    assert.match((await raw(open.url, '/config.json')).body, /credentials are not allowed in an endpoint address/);
  });

  it('mounts in Express under a prefix (the page at /admin, without its slash, still finds state.json)', async () => {
    const { default: express } = await import('express');
    const app = express();
    app.use('/admin', mesh.adminHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}/admin`;
      assert.equal((await fetch(base)).status, 200);
      assert.equal(((await (await fetch(`${base}/state.json`)).json()) as { service: string }).service, 'admin-test');
      assert.equal((await fetch(`${base}/config.json`)).status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('logs a rejection made while the handler runs once in config.json, with its reasons', async () => {
    store.push({ services: { 'admin-pay': { endpoints: [backend.address], timeout: 'soon' } } });
    await eventually(() => (mesh.state().config as { rejections: number }).rejections === 2, 'the second push rejected');
    const config = (await (await fetch(`${open.url}config.json`)).json()) as { rejections: { issues: { path: string }[] }[] };
    // Once (the log's copy and the mesh's own last rejection are one); the older one was the mesh's last before the handlers existed, and it keeps only the last.
    assert.equal(config.rejections.length, 1, JSON.stringify(config.rejections));
    assert.ok(config.rejections[0]!.issues.some((issue) => issue.path === 'services.admin-pay.timeout'));
  });

  it('shows call statistics once calls were made', async () => {
    await eventually(async () => {
      const state = (await (await fetch(`${open.url}state.json`)).json()) as { services: Record<string, { stats: { history: { calls: number[] } } | null }> };
      const stats = state.services['admin-pay']!.stats;
      return stats?.history.calls.some((n) => n > 0) === true;
    }, 'the calls in the history', 3000);
  });
});
