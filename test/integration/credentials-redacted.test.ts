/**
 * Regression (issue 9, defect 3): credentials came back out. An endpoint such as
 * `http://user:PASSWORD@host:1` was rejected with the whole URL quoted, so the password sat in
 * the `config-rejected` issues, in `state().config.lastRejected` and in the error createMesh
 * threw; a Redis URL's `?password=` showed in `state()`; `mesh.fetch('http://user:pass@api/x')`
 * put the password in its MESH_BAD_REQUEST message. Here a distinctive password is planted in
 * every one of those paths and looked for in everything meshlet reports.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MeshError } from '../../src/core/errors.ts';
import type { ControlListener, ControlStore } from '../../src/control/control-store.ts';
import { createMesh, isMeshError, type Mesh, type MeshEvents } from '../../src/index.ts';
import { type RedisServer, startRedis } from '../support/redis.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

const PASSWORD = 'S3cretPW';

/** Every endpoint form an author can write a credential into (issue 9 lists them). */
const LEAKY_SERVICES: Record<string, Record<string, unknown>> = {
  'url-string': { endpoints: [`http://user:${PASSWORD}@host:1`] },
  'bare-string': { endpoints: [`user:${PASSWORD}@host:1`] },
  'address-object': { endpoints: [{ address: `http://user:${PASSWORD}@host:1` }] },
  'https-token': { endpoints: [`https://${PASSWORD}@host:8443`] },
  'dns-name': { discovery: { type: 'dns', name: `user:${PASSWORD}@host` } },
};

/** Message, stack, issues and the whole cause chain: everything an error carries into a log. */
function errorText(error: unknown): string {
  const parts: string[] = [];
  for (let link = error, depth = 0; link !== undefined && depth < 20; depth++) {
    if (link instanceof Error) {
      parts.push(link.name, link.message, link.stack ?? '', JSON.stringify(link));
      link = link.cause;
    } else {
      parts.push(String(link));
      link = undefined;
    }
  }
  return parts.join('\n');
}

function assertNoPassword(what: string, text: string): void {
  assert.ok(!text.includes(PASSWORD), `${what} contains the password:\n${text}`);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('credentials never come back out (issue 9, defect 3)', () => {
  const dir = suiteTempDir('meshlet-credentials-');

  for (const [form, service] of Object.entries(LEAKY_SERVICES)) {
    it(`bootstrap ${form}: the error createMesh throws names the path but not the password`, async () => {
      const error = await rejectionOf(createMesh({ service: 'web', config: { services: { api: service } } as never }));
      assert.ok(isMeshError(error));
      assert.equal(error.code, 'MESH_CONFIG_INVALID');
      assert.match(error.issues?.[0]?.path ?? '', /^services\.api\.(endpoints\.0|discovery\.name)/);
      assert.match(error.message, /\*\*\*@host/, 'the value is still shown, redacted');
      if (form !== 'dns-name') assert.match(error.message, /credentials are not allowed in an endpoint address.*request header/);
      assertNoPassword('the thrown error', errorText(error));
    });
  }

  it('file store: no config-rejected event and no state() ever shows the password, whichever form', async () => {
    const file = join(dir(), 'mesh.json');
    const forms = Object.values(LEAKY_SERVICES);
    await writeFile(file, JSON.stringify({ services: { api: forms[0] } }));
    const mesh = await createMesh({ service: 'web', control: `file:${file}`, config: { services: { ok: { endpoints: ['127.0.0.1:1'] } } } });
    const events: MeshEvents['config-rejected'][] = [];
    mesh.on('config-rejected', (event) => events.push(event));
    try {
      const first = mesh.state() as { config: { rejections: number; lastRejected: { issues: { path: string }[] } } };
      assert.equal(first.config.rejections, 1, 'the file was rejected at start');
      assertNoPassword('state() after the first rejection', JSON.stringify(first));
      for (const [index, service] of forms.slice(1).entries()) {
        await writeFile(file, JSON.stringify({ services: { api: service } }));
        await waitFor(() => events.length === index + 1, `config-rejected for form ${index + 2}`);
        assertNoPassword(`state() after form ${index + 2}`, JSON.stringify(mesh.state()));
      }
      // Broken YAML-or-JSON text around the password: the parser's message must not quote it.
      await writeFile(file, `{"services": {"api": {"endpoints": ["http://u:${PASSWORD}@h:1" }}`);
      await waitFor(() => events.length === forms.length, 'config-rejected for the unparsable file');
      assert.equal(events.length, forms.length);
      for (const event of events) {
        assert.ok(event.issues.length > 0);
        assertNoPassword('a config-rejected event', `${JSON.stringify({ source: event.source, issues: event.issues })}\n${errorText(event.error)}`);
      }
      assertNoPassword('state() at the end', JSON.stringify(mesh.state()));
    } finally {
      await mesh.close();
    }
  });

  it('a custom control store: its source, rejections and outages are reported redacted', async () => {
    let listener: ControlListener | undefined;
    const store: ControlStore = {
      source: `kv://admin:${PASSWORD}@store.internal:8500/meshlet`,
      async watch(given) {
        listener = given;
      },
      async close() {},
    };
    const mesh = await createMesh({ service: 'web', control: store });
    const rejected: MeshEvents['config-rejected'][] = [];
    const outages: MeshEvents['control-error'][] = [];
    mesh.on('config-rejected', (event) => rejected.push(event));
    mesh.on('control-error', (event) => outages.push(event));
    try {
      const cause = new TypeError(`fetch failed for https://store.internal/v1/kv?token=${PASSWORD}`);
      listener!.rejected(new Error(`parse of kv://admin:${PASSWORD}@store.internal failed`, { cause }) as unknown as MeshError);
      listener!.unavailable(new Error(`GET https://store.internal/v1/kv?token=${PASSWORD} refused`, { cause }));
      listener!.snapshot({ services: { api: { endpoints: [`http://user:${PASSWORD}@host:1`] } } });
      await waitFor(() => rejected.length === 2, 'two config-rejected events');
      assert.equal(outages.length, 1);
      for (const event of [...rejected, ...outages]) {
        assertNoPassword('a store event', `${JSON.stringify(event)}\n${errorText(event.error)}`);
      }
      const state = mesh.state() as { config: { control: { source: string; status: string; lastError: string } } };
      assert.equal(state.config.control.status, 'unavailable');
      assert.match(state.config.control.lastError, /token=\*\*\*/);
      assertNoPassword('state()', JSON.stringify(state));
    } finally {
      await mesh.close();
    }
  });

  describe('Redis URLs of a global rate limit', () => {
    let redis: RedisServer;
    let mesh: Mesh;
    before(async () => {
      redis = await startRedis();
      const limit = (url: string) => ({ endpoints: ['127.0.0.1:1'], rateLimit: { rps: 100, scope: 'global' as const, redis: url } });
      mesh = await createMesh({
        service: 'web',
        config: {
          services: {
            query: limit(`redis://127.0.0.1:${redis.port}/?password=${PASSWORD}`),
            userinfo: limit(`redis://default:${PASSWORD}@127.0.0.1:${redis.port}`),
            'no-user': limit(`redis://:${PASSWORD}@127.0.0.1:${redis.port}/0`),
          },
        },
      });
    });
    after(async () => {
      await mesh.close();
      await redis.stop();
    });

    it('state() shows each URL with its password blanked', async () => {
      // A call makes the limiter connect, so its state (and any error it met) is reported.
      for (const name of ['query', 'userinfo', 'no-user']) await mesh.client(name).request({ path: '/' }).catch(() => undefined);
      const state = mesh.state() as { services: Record<string, { 'rate-limit'?: { global?: { redis: string } } }> };
      assert.equal(state.services.query?.['rate-limit']?.global?.redis, `redis://127.0.0.1:${redis.port}/?password=***`);
      assert.match(state.services.userinfo?.['rate-limit']?.global?.redis ?? '', /^redis:\/\/(\*\*\*|default:\*\*\*)@127\.0\.0\.1:/);
      assert.match(state.services['no-user']?.['rate-limit']?.global?.redis ?? '', /^redis:\/\/(:)?\*\*\*@127\.0\.0\.1:/);
      assertNoPassword('state()', JSON.stringify(state));
    });
  });

  it('mesh.fetch with userinfo in the URL: MESH_BAD_REQUEST without the password', async () => {
    const mesh = await createMesh({ service: 'web', config: { services: { api: { endpoints: ['127.0.0.1:1'] } } } });
    try {
      const error = await rejectionOf(mesh.fetch(`http://user:${PASSWORD}@api/x`));
      assert.ok(isMeshError(error));
      assert.equal(error.code, 'MESH_BAD_REQUEST');
      assert.match(error.message, /credentials/);
      assertNoPassword('the fetch error', errorText(error));
    } finally {
      await mesh.close();
    }
  });

  it('a client named after a URL with credentials: MESH_UNKNOWN_SERVICE without the password', async () => {
    const mesh = await createMesh({ service: 'web', config: { services: { api: { endpoints: ['127.0.0.1:1'] } } } });
    try {
      const error = await rejectionOf(mesh.client(`http://user:${PASSWORD}@api`).request({ path: '/' }));
      assert.ok(isMeshError(error));
      assert.equal(error.code, 'MESH_UNKNOWN_SERVICE');
      assert.match(error.message, /call to 'http:\/\/\*\*\*@api' names no service/);
      assertNoPassword('the unknown-service error', errorText(error));
    } finally {
      await mesh.close();
    }
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
