/**
 * Regression tests for "headers given as a `Headers` object or a `Map` are silently dropped"
 * and "unknown call options (`url`, `timeoutMs`) are ignored; a caller-supplied
 * `x-meshlet-attempt` passes through on first attempts" (issue 9, defects 9 and 11). Every
 * form of headers undici and fetch accept reaches the server whole; what meshlet cannot send
 * as given is refused with MESH_BAD_REQUEST, and then the server receives nothing.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createMesh, isMeshError, type Mesh, type MeshError } from '../../src/index.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

async function refusal(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isMeshError(error), `expected a MeshError, got ${String(error)}`);
    assert.equal(error.code, 'MESH_BAD_REQUEST', error.message);
    return error;
  }
  assert.fail('expected MESH_BAD_REQUEST, the call succeeded');
}

describe('call arguments', () => {
  let backend: Backend;
  /** The raw header lines of each request, in order: tells one line "a, b" from two lines. */
  let rawHeaders: string[][];
  let mesh: Mesh;

  before(async () => {
    backend = await startBackend((req, res) => {
      rawHeaders.push(req.rawHeaders);
      res.end('ok');
    });
    mesh = await createMesh({ service: 'web', config: { services: { api: { endpoints: [backend.address] } } } });
  });

  after(async () => {
    await mesh.close();
    await backend.close();
  });

  beforeEach(() => {
    backend.received.length = 0;
    rawHeaders = [];
  });

  /** The values of `name` the server received, one per header line. */
  function linesOf(name: string): string[] {
    assert.equal(rawHeaders.length, 1, 'one request reached the server');
    const raw = rawHeaders[0]!;
    const values: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) values.push(raw[i + 1]!);
    return values;
  }

  async function send(headers: unknown): Promise<void> {
    // biome-ignore lint/suspicious/noExplicitAny: every form a caller may pass, typed or not
    const res = await mesh.client('api').request({ path: '/', headers: headers as any });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
  }

  it('headers given as a Headers object reach the server (they were dropped)', async () => {
    const headers = new Headers({ 'X-Tenant': 'acme', 'content-type': 'application/json' });
    headers.append('set-cookie', 'a=1');
    headers.append('set-cookie', 'b=2');
    await send(headers);
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
    assert.deepEqual(linesOf('content-type'), ['application/json']);
    assert.deepEqual(linesOf('set-cookie'), ['a=1', 'b=2']);
  });

  it('headers given as a Map reach the server (they were dropped)', async () => {
    await send(
      new Map<string, string | string[] | number>([
        ['x-tenant', 'acme'],
        ['x-tags', ['a', 'b']],
        ['x-count', 3],
      ]),
    );
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
    assert.deepEqual(linesOf('x-tags'), ['a', 'b']);
    assert.deepEqual(linesOf('x-count'), ['3']);
  });

  it('an array of pairs keeps every value of a repeated name, each on its own line', async () => {
    await send([
      ['x-tenant', 'acme'],
      ['X-Seen-By', 'gateway'],
      ['x-seen-by', 'auth'],
    ]);
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
    assert.deepEqual(linesOf('x-seen-by'), ['gateway', 'auth']);
  });

  it("a flat array (undici's raw form) and any iterable of pairs reach the server", async () => {
    await send(['x-tenant', 'acme', 'x-seen-by', 'gateway', 'x-seen-by', 'auth']);
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
    assert.deepEqual(linesOf('x-seen-by'), ['gateway', 'auth']);
    rawHeaders = [];
    function* pairs(): Generator<[string, string]> {
      yield ['x-tenant', 'acme'];
      yield ['x-region', 'eu'];
    }
    await send(pairs());
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
    assert.deepEqual(linesOf('x-region'), ['eu']);
  });

  it('a plain object naming a header twice in different case keeps both values', async () => {
    await send({ 'X-Seen-By': 'gateway', 'x-seen-by': 'auth', 'x-tenant': 'acme' });
    assert.deepEqual(linesOf('x-seen-by'), ['gateway', 'auth']);
    assert.deepEqual(linesOf('x-tenant'), ['acme']);
  });

  it('an Idempotency-Key in a Headers object still makes a POST idempotent', async () => {
    const flaky = await startBackend((_req, res) => {
      res.statusCode = flaky.received.length === 1 ? 503 : 200;
      res.end();
    });
    const retrying = await createMesh({
      service: 'web',
      config: { services: { pay: { endpoints: [flaky.address], retry: { backoff: { base: '1ms', max: '1ms' } } } } },
    });
    try {
      const res = await retrying.client('pay').request({ method: 'POST', path: '/', headers: new Headers({ 'idempotency-key': 'k1' }), body: 'x' });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
      assert.equal(flaky.received.length, 2, 'the 503 was retried');
    } finally {
      await retrying.close();
      await flaky.close();
    }
  });

  it('refuses headers it cannot read or send as given, and sends nothing', async () => {
    class Bag {
      'x-tenant' = 'acme';
    }
    const cases: [unknown, RegExp][] = [
      [new Bag(), /headers must be a plain object, a Headers, a Map.*got an object \(Bag\)/],
      ['x-tenant: acme', /headers must be/],
      [[['x-tenant']], /each header pair must be \[name, value\]/],
      [['x-tenant', 'acme', 'x-region'], /length is even; got 3 items/],
      [new Map([['bad name', 'x']]), /not a valid HTTP token/],
      [new Map([['x-evil', 'a\r\nInjected: 1']]), /header injection/],
      [[['connection', 'close']], /connection-level/],
      [
        [
          ['host', 'a'],
          ['host', 'b'],
        ],
        /'host' takes one value/,
      ],
      [{ 'Content-Length': '1', 'content-length': '2' }, /'content-length' takes one value/],
      [{ expect: '100-continue' }, /'expect' is not supported/],
    ];
    for (const [headers, message] of cases) {
      // biome-ignore lint/suspicious/noExplicitAny: deliberately ill-typed input
      const error = await refusal(mesh.client('api').request({ path: '/', headers: headers as any }));
      assert.match(error.message, message);
    }
    assert.equal(backend.received.length, 0);
  });

  it("refuses a caller's x-meshlet-attempt and x-meshlet-timeout-ms (the attempt header passed through on first attempts)", async () => {
    const attempt = await refusal(mesh.client('api').request({ path: '/', headers: { 'x-meshlet-attempt': '3' } }));
    assert.match(attempt.message, /'x-meshlet-attempt' is meshlet's own/);
    const timeout = await refusal(mesh.client('api').request({ path: '/', headers: new Headers({ 'X-Meshlet-Timeout-Ms': '50' }) }));
    assert.match(timeout.message, /set the call's `timeout`/);
    assert.equal(backend.received.length, 0);
  });

  it('refuses unknown options, naming the key and the valid ones (url and timeoutMs were ignored)', async () => {
    const url = await refusal(mesh.client('api').request({ url: 'http://api/x' } as never));
    assert.match(url.message, /unknown option "url"/);
    assert.match(url.message, /mesh\.fetch\('http:\/\/payments\/charge'\)/);
    const typo = await refusal(mesh.client('api').request({ path: '/', timeoutMs: 50 } as never));
    assert.match(typo.message, /unknown option "timeoutMs" \(did you mean 'timeout'\?\); valid options: method, path, headers, body, idempotent, timeout, signal, hashKey/);
    assert.equal(backend.received.length, 0);
  });

  it('the first attempt carries no x-meshlet-attempt; meshlet still adds x-meshlet-timeout-ms', async () => {
    await send({ 'x-tenant': 'acme' });
    assert.deepEqual(linesOf('x-meshlet-attempt'), []);
    assert.equal(linesOf('x-meshlet-timeout-ms').length, 1);
  });
});
