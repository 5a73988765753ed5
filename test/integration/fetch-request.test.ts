/**
 * Regression tests for "`mesh.fetch(new Request(url, { signal }))` drops the Request's signal
 * (and any other property of a Request it does not read)" and "a `mesh.fetch` URL's port is
 * ignored silently" (issue 9, defects 8 and 11): a Request is honoured as fetch honours it,
 * `init` overriding it member by member; what meshlet cannot honour is refused with
 * MESH_BAD_REQUEST before anything is sent. Against real loopback servers.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gcFunction } from '../../bench/support/allocation.ts';
import { createMesh, isMeshError, type Mesh, type MeshError } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';
import { expectMeshError } from '../support/mesh-error.ts';

const collectGarbage = gcFunction();

function refusal(promise: Promise<unknown>, code = 'MESH_BAD_REQUEST'): Promise<MeshError> {
  return expectMeshError(promise, code);
}

/** Answers 503 to the first request of each path, 200 after: shows whether a call was retried. */
function failsFirst(): (req: IncomingMessage, res: ServerResponse) => void {
  const seen = new Set<string>();
  return (req, res) => {
    const first = !seen.has(req.url ?? '');
    seen.add(req.url ?? '');
    res.statusCode = first ? 503 : 200;
    res.end(first ? 'try again' : 'ok');
  };
}

describe('mesh.fetch honours a Request and refuses what it cannot honour', () => {
  let api: Backend;
  let flaky: Backend;
  let slow: Backend;
  let stalling: Backend;
  let mesh: Mesh;

  before(async () => {
    api = await startBackend((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://elsewhere.example/' });
        res.end();
        return;
      }
      res.end('ok');
    });
    flaky = await startBackend(failsFirst());
    slow = await startBackend((_req, res) => {
      const timer = setTimeout(() => res.end('late'), 2_000);
      res.on('close', () => clearTimeout(timer));
    });
    // Its head and a first chunk at once, then nothing: the caller is left reading the body.
    stalling = await startBackend((_req, res) => {
      res.writeHead(200);
      res.write('first');
    });
    mesh = await createMesh({
      service: 'web',
      config: {
        services: {
          api: { endpoints: [api.address] },
          flaky: { endpoints: [flaky.address], retry: { attempts: 2, backoff: { base: '1ms', max: '1ms' } } },
          slow: { endpoints: [slow.address], retry: false },
          stalling: { endpoints: [stalling.address], retry: false, timeout: false },
        },
      },
    });
  });

  after(async () => {
    await mesh.close();
    await Promise.all([api, flaky, slow, stalling].map((b) => b.close()));
  });

  beforeEach(() => {
    for (const b of [api, flaky, slow, stalling]) b.received.length = 0;
  });

  it("a Request's signal aborts the call (it was dropped)", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 50);
    await refusal(mesh.fetch(new Request('http://slow/', { signal: controller.signal })), 'MESH_ABORTED');
    assert.ok(performance.now() - started < 1_000, 'the abort took effect at once, not when the server answered');
  });

  it("a Request's signal still aborts the body read after the Request was garbage-collected", async () => {
    // undici links a Request's signal to its source through a WeakRef: once mesh.fetch has
    // returned, nothing but meshlet keeps the Request alive.
    const controller = new AbortController();
    const response = await (() => mesh.fetch(new Request('http://stalling/', { signal: controller.signal })))();
    const reader = response.body!.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value), 'first');
    for (let i = 0; i < 3; i++) {
      collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort();
    const outcome = await Promise.race([
      reader.read().then(
        () => 'the read resolved',
        (error: unknown) => (isMeshError(error) ? error.code : `raw ${String(error)}`),
      ),
      new Promise((resolve) => setTimeout(() => resolve('the read still hangs 1 s after the abort'), 1_000)),
    ]);
    assert.equal(outcome, 'MESH_ABORTED');
  });

  it("init.signal overrides the Request's, as fetch's does", async () => {
    const response = await mesh.fetch(new Request('http://api/', { signal: AbortSignal.abort() }), { signal: new AbortController().signal });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await refusal(mesh.fetch(new Request('http://slow/'), { signal: controller.signal }), 'MESH_ABORTED');
  });

  it("a Request's method, headers and body reach the server", async () => {
    const request = new Request('http://api/put?x=1', { method: 'PUT', headers: { 'x-from-request': 'yes' }, body: 'hello' });
    const response = await mesh.fetch(request);
    assert.equal(response.status, 200);
    await response.text();
    assert.equal(api.received.length, 1);
    const received = api.received[0]!;
    assert.equal(received.method, 'PUT');
    assert.equal(received.url, '/put?x=1');
    assert.equal(received.headers['x-from-request'], 'yes');
    assert.equal(received.body, 'hello');
  });

  it("init overrides the Request's method, headers and body", async () => {
    const request = new Request('http://api/', { method: 'POST', headers: { 'x-from-request': 'yes' }, body: 'from request' });
    const response = await mesh.fetch(request, { method: 'PATCH', headers: { 'x-from-init': 'yes' }, body: 'from init' });
    await response.text();
    const received = api.received[0]!;
    assert.equal(received.method, 'PATCH');
    assert.equal(received.headers['x-from-init'], 'yes');
    assert.equal(received.headers['x-from-request'], undefined);
    assert.equal(received.body, 'from init');
  });

  it('every set-cookie of a Request reaches the server (all but the last were dropped)', async () => {
    const headers = new Headers();
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    headers.append('x-multi', 'one');
    headers.append('x-multi', 'two');
    await (await mesh.fetch(new Request('http://api/', { headers }))).text();
    const received = api.received[0]!;
    assert.deepEqual(received.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(received.headers['x-multi'], 'one, two');
  });

  it('a body given in init is buffered, so an idempotent call is retried with it', async () => {
    const response = await mesh.fetch('http://flaky/init-body', { method: 'PUT', body: 'hello' });
    assert.equal(response.status, 200);
    await response.text();
    assert.deepEqual(
      flaky.received.map((r) => r.body),
      ['hello', 'hello'],
    );
  });

  it("a Request's body is a stream: streamed and sent once, never replayed", async () => {
    const response = await mesh.fetch(new Request('http://flaky/request-body', { method: 'PUT', body: 'hello' }));
    assert.equal(response.status, 503, 'the one attempt answered 503, and a streamed body is not sent twice');
    await response.text();
    assert.deepEqual(
      flaky.received.map((r) => r.body),
      ['hello'],
    );
  });

  it('a ReadableStream init body is streamed to the server', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed '));
        controller.enqueue(new TextEncoder().encode('body'));
        controller.close();
      },
    });
    await (await mesh.fetch('http://api/stream', { method: 'POST', body, duplex: 'half' } as RequestInit)).text();
    assert.equal(api.received[0]!.body, 'streamed body');
  });

  it('a redirect comes back as the response it is, with redirect: "manual" or left out', async () => {
    for (const init of [undefined, { redirect: 'manual' as const }]) {
      const response = await mesh.fetch('http://api/redirect', init);
      assert.equal(response.status, 302);
      assert.equal(response.headers.get('location'), 'http://elsewhere.example/');
      await response.text();
    }
  });

  it('accepts the members meshlet already behaves as asked for', async () => {
    const init = { mode: 'cors', credentials: 'include', cache: 'no-store', keepalive: true, referrerPolicy: 'no-referrer', priority: 'high', referrer: '' };
    const response = await mesh.fetch('http://api/', init as RequestInit);
    assert.equal(response.status, 200);
    await response.text();
  });

  it('refuses a URL with a port, saying to drop it (the port was ignored silently)', async () => {
    const error = await refusal(mesh.fetch('http://api:8080/x'));
    assert.match(error.message, /drop ':8080'/);
    assert.match(error.message, /'api' is the logical service name/);
    assert.equal(api.received.length, 0);
  });

  it('refuses a URL with credentials without quoting them', async () => {
    for (const input of ['http://admin:hunter2-secret@api/x', new URL('http://admin:hunter2-secret@api/x')]) {
      const error = await refusal(mesh.fetch(input));
      assert.match(error.message, /credentials/);
      assert.match(error.message, /authorization/);
      assert.doesNotMatch(`${error.message}\n${error.stack}\n${String(error.cause)}`, /hunter2-secret/);
    }
    assert.equal(api.received.length, 0);
  });

  it('refuses, before sending anything, the init members it cannot honour', async () => {
    const cases: [RequestInit, RegExp][] = [
      [{ redirect: 'follow' }, /redirect "follow" is not supported/],
      [{ redirect: 'error' }, /redirect "error" is not supported/],
      [{ integrity: 'sha256-abc' }, /integrity is not verified/],
      [{ referrer: 'http://web/page' }, /set a `referer` header/],
      [{ cache: 'only-if-cached', mode: 'same-origin' }, /only-if-cached/],
      [{ dispatcher: {} } as RequestInit, /dispatcher/],
      [{ timeout: '1s' } as RequestInit, /unknown RequestInit member "timeout"; valid RequestInit members: method, headers/],
      [{ methdo: 'POST' } as RequestInit, /did you mean 'method'/],
    ];
    for (const [init, message] of cases) {
      const error = await refusal(mesh.fetch('http://api/', init));
      assert.match(error.message, message);
    }
    assert.equal(api.received.length, 0);
  });

  it("refuses a Request whose redirect is 'error', and takes a Request's default 'follow' as meshlet's manual", async () => {
    await refusal(mesh.fetch(new Request('http://api/', { redirect: 'error' })));
    const response = await mesh.fetch(new Request('http://api/redirect'));
    assert.equal(response.status, 302);
    await response.text();
    assert.equal(api.received.length, 1);
  });

  it('refuses an input that is not a URL string, a URL or a Request', async () => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed input
    const error = await refusal(mesh.fetch({ url: 'http://api/' } as any));
    assert.match(error.message, /input must be a URL string, a URL or a Request/);
  });
});
