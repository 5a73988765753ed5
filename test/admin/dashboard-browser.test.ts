/**
 * The admin dashboard in a real browser (Debian's Chromium through playwright-core), against a
 * real mesh calling real loopback backends: the page loads from the handler with nothing from
 * anywhere else (every request outside the admin server is recorded and refused) and no script
 * error or CSP violation, lists the services, and shows an endpoint ejection and a breaker
 * opening within a few seconds of the backends starting to fail. A screenshot is saved under
 * test-artifacts/ (git-ignored).
 *
 * The refusal of a non-loopback client: this machine cannot open a connection from another
 * host, and a proxy in between would be exactly what the handler must not trust. So the second
 * admin server gives the real request's socket an own `remoteAddress` (203.0.113.7, a
 * documentation address) that shadows the real peer: the browser's real request reaches the
 * real handler, which judges it by the socket alone (admin-server.ts). The unit-level check of
 * the same rule with forged X-Forwarded-For headers is in admin-handler.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { createMesh, type Mesh } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { type AdminServer, manualStore, startAdminServer } from './admin-server.ts';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
// A '+' as base64 tokens have: the query form reads it as a space, server and page both put it back.
const TOKEN = 'browser+test+token';
const XSS = '<img src=x onerror="globalThis.xss=1">';

describe('admin dashboard in Chromium', { timeout: 60_000 }, () => {
  let failing = false;
  let good: Backend;
  let flaky: Backend;
  let ledger: Backend;
  let mesh: Mesh;
  let admin: AdminServer;
  let remote: AdminServer;
  let tokened: AdminServer;
  let browser: Browser;
  const store = manualStore();

  before(async () => {
    const fails = (_req: unknown, res: import('node:http').ServerResponse): void => {
      res.statusCode = failing ? 503 : 200;
      res.end(failing ? 'down' : 'ok');
    };
    good = await startBackend();
    flaky = await startBackend(fails);
    ledger = await startBackend(fails);
    mesh = await createMesh({
      service: 'browser-test',
      control: store,
      config: {
        services: {
          'browse-pay': { endpoints: [good.address, flaky.address], balancer: 'round-robin', outlier: { consecutiveFailures: 2, ejectFor: '30s' }, retry: { attempts: 3 } },
          'browse-ledger': { endpoints: [ledger.address], retry: false, breaker: { errorRate: 0.5, minRequests: 4, window: '10s', openFor: '30s' } },
        },
      },
    });
    admin = await startAdminServer(mesh.adminHandler(), { prefix: '/admin' });
    remote = await startAdminServer(mesh.adminHandler(), { peer: '203.0.113.7' });
    tokened = await startAdminServer(mesh.adminHandler({ token: TOKEN }), { peer: '203.0.113.8' });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    await admin?.close();
    await remote?.close();
    await tokened?.close();
    await mesh?.close();
    for (const backend of [good, flaky, ledger]) await backend?.close();
  });

  /** Some calls to both services; failures are expected once the backends fail. */
  async function traffic(calls: number): Promise<void> {
    for (let i = 0; i < calls; i++) {
      for (const service of ['browse-pay', 'browse-ledger']) {
        try {
          await (await mesh.client(service).request({ path: '/' })).body.text();
        } catch {
          // MESH_CIRCUIT_OPEN once the breaker opened: what the page must show.
        }
      }
    }
  }

  it('loads offline, lists the services, then shows the ejection and the open breaker', async () => {
    const context = await browser.newContext();
    const outside: string[] = [];
    const origin = new URL(admin.url).origin;
    await context.route('**/*', (route) => {
      if (route.request().url().startsWith(origin)) return route.continue();
      outside.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await traffic(3);
    // Mounted under /admin/: the page fetches ./state.json relative to where it was loaded.
    const response = await page.goto(admin.url);
    assert.equal(response?.status(), 200);
    await page.locator('[data-service="browse-pay"]').waitFor({ timeout: 5000 });
    await page.locator('[data-service="browse-ledger"] [data-breaker="closed"]').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('[data-service="browse-pay"] [data-health="healthy"]').count(), 2);

    failing = true;
    await traffic(8);
    const started = performance.now();
    await page.locator(`[data-service="browse-pay"] [data-endpoint="${flaky.address}"][data-health="ejected"]`).waitFor({ timeout: 5000 });
    await page.locator('[data-service="browse-ledger"] [data-breaker="open"]').waitFor({ timeout: 5000 });
    const shownAfter = performance.now() - started;
    assert.ok(shownAfter < 5000, `shown after ${Math.round(shownAfter)} ms`);
    const card = await page.locator('[data-service="browse-pay"]').innerText();
    assert.match(card, /ejected: 2 consecutive failures/);
    assert.match(await page.locator('[data-service="browse-ledger"]').innerText(), /breaker trips at\s+50\.0% errors of ≥4 in 10\.0 s, open 30\.0 s/);

    // A refused push whose reasons quote markup: the page shows it as text and runs none of it.
    store.push({ services: { [XSS]: { endpoints: ['127.0.0.1:1'] } } });
    await page.locator('#config .rejected', { hasText: XSS }).waitFor({ timeout: 5000 });
    assert.equal(await page.locator('main img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { xss?: unknown }).xss), undefined);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('admin-dashboard.png', ARTIFACTS).pathname, fullPage: true });
    assert.deepEqual(outside, [], 'the page asked for something outside the admin server');
    assert.deepEqual(problems, [], 'script errors or CSP violations');
    await context.close();
  });

  it('works when Express mounts it at /ops and the page is loaded without the trailing slash', async () => {
    const { default: express } = await import('express');
    const app = express();
    app.use('/ops', mesh.adminHandler());
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/ops`);
      // The script resolves ./state.json against /ops/, not /: the services appear.
      await page.locator('[data-service="browse-pay"]').waitFor({ timeout: 5000 });
    } finally {
      await page.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('lets a non-loopback client in with ?token=, which the page moves out of the address bar into its requests', async () => {
    const page = await browser.newPage();
    try {
      const response = await page.goto(`${tokened.url}?token=${TOKEN}`);
      assert.equal(response?.status(), 200);
      // The services appear only if the page's own state.json requests carry the token.
      await page.locator('[data-service="browse-pay"]').waitFor({ timeout: 5000 });
      assert.equal(page.url(), tokened.url);
    } finally {
      await page.close();
    }
  });

  it('refuses a non-loopback client without the token', async () => {
    const page = await browser.newPage();
    const response = await page.goto(remote.url);
    assert.equal(response?.status(), 403);
    assert.match(await page.innerText('body'), /answers loopback clients only/);
    assert.equal(await page.locator('[data-service]').count(), 0);
    await page.close();
  });
});
