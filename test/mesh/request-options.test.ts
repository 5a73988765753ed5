/**
 * The call options at the door (mesh/request-options.ts): every option meshlet knows is
 * accepted, whatever else is refused with MESH_BAD_REQUEST naming it, and the timeout is
 * checked and converted by the parse too (`parsedCall`, where the mesh takes it and the signal
 * from). Each option is read once: a getter on the caller's options runs once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { after, before } from 'node:test';
import type { Mesh } from '../../src/index.ts';
import { parsedCall, parseRequestOptions, type RequestOptions } from '../../src/mesh/request-options.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';

const badRequest = (pattern: RegExp) => (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && pattern.test(error.message);

describe('request options', () => {
  it('accepts every option it knows, each one on its own and all together', () => {
    const all: Required<RequestOptions> = {
      method: 'post',
      path: '/charge',
      headers: { 'x-a': '1' },
      body: 'hi',
      idempotent: true,
      timeout: '2s',
      signal: new AbortController().signal,
      hashKey: 'k',
    };
    for (const [key, value] of Object.entries(all)) parseRequestOptions('api', { [key]: value });
    const request = parseRequestOptions('api', all);
    assert.deepEqual(
      { method: request.method, path: request.path, body: request.body, idempotent: request.idempotent, replayable: request.replayable, hashKey: request.hashKey },
      { method: 'POST', path: '/charge', body: 'hi', idempotent: true, replayable: true, hashKey: 'k' },
    );
    assert.equal(parsedCall.timeout, 2_000);
    assert.equal(parsedCall.signal, all.signal);
  });

  it('refuses an option it does not know, naming it and the one meant', () => {
    assert.throws(() => parseRequestOptions('api', { path: '/', timeoutMs: 5 }), badRequest(/timeoutMs/));
    assert.throws(() => parseRequestOptions('api', { url: 'http://api/x' }), badRequest(/mesh\.client\('payments'\)/));
    // Inherited keys are the caller's too (for-in sees them).
    assert.throws(() => parseRequestOptions('api', Object.create({ retries: 3 })), badRequest(/retries/));
  });

  it('converts the timeout, refuses one that does not parse, and has none when none is given', () => {
    const timeout = (options: RequestOptions): number | undefined => {
      parseRequestOptions('api', options);
      return parsedCall.timeout;
    };
    assert.equal(timeout({ timeout: 250 }), 250);
    assert.equal(timeout({}), undefined);
    assert.equal(timeout({ timeout: '800ms' }), 800);
    assert.throws(() => timeout({ timeout: 'soon' }), badRequest(/^.*timeout/));
    // A parse that fails leaves no timeout or signal of an earlier call behind.
    parseRequestOptions('api', { timeout: 250, signal: new AbortController().signal });
    assert.throws(() => parseRequestOptions('api', { path: 'x' }), badRequest(/path/));
    assert.deepEqual(parsedCall, { timeout: undefined, signal: undefined });
  });

  it('idempotent: by method, by an Idempotency-Key, or as the caller says', () => {
    assert.equal(parseRequestOptions('api', { method: 'GET' }).idempotent, true);
    assert.equal(parseRequestOptions('api', { method: 'POST' }).idempotent, false);
    assert.equal(parseRequestOptions('api', { method: 'POST', headers: { 'Idempotency-Key': 'x' } }).idempotent, true);
    assert.equal(parseRequestOptions('api', { method: 'PUT', idempotent: false }).idempotent, false);
  });
  it('refuses an object on AbortSignal\'s prototype that is no signal, as it refuses any other non-signal', () => {
    // Before: instanceof let it through, and the first layer's `signal.aborted` threw a raw TypeError.
    assert.throws(() => parseRequestOptions('api', { signal: Object.create(AbortSignal.prototype) }), badRequest(/signal must be an AbortSignal/));
    assert.throws(() => parseRequestOptions('api', { signal: { aborted: false } as never }), badRequest(/signal must be an AbortSignal/));
    parseRequestOptions('api', { signal: AbortSignal.abort() });
  });

  it("an unknown option named like a member of Object.prototype gets no hint made of that member", () => {
    for (const key of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const options = JSON.parse(`{"${key}": 1}`) as object;
      assert.throws(
        () => parseRequestOptions('api', options),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_BAD_REQUEST' && error.message.includes(`"${key}"`) && !/native code|\[object Object\]/.test(error.message),
        key,
      );
    }
  });

  it('reads each option once, so the value checked is the value used', () => {
    const { options, reads } = hostileOptions();
    const request = parseRequestOptions('api', options);
    assert.deepEqual(reads, Object.fromEntries(OPTION_KEYS.map((key) => [key, 1])));
    assert.deepEqual(
      { method: request.method, path: request.path, headers: { ...request.headers }, body: request.body, idempotent: request.idempotent, hashKey: request.hashKey },
      { method: 'POST', path: '/first', headers: { 'x-first': '1' }, body: 'first', idempotent: true, hashKey: 'first' },
    );
    assert.equal(parsedCall.timeout, 1_000);
    assert.equal(parsedCall.signal?.aborted, false);
  });
});

const OPTION_KEYS = ['method', 'path', 'headers', 'body', 'idempotent', 'timeout', 'signal', 'hashKey'] as const;

/**
 * Options whose every getter counts its reads and answers a valid value the first time, then
 * one the parse would refuse or that means another call (a hostile or stateful getter): read
 * twice, a checked value would not be the one used.
 */
function hostileOptions(): { options: RequestOptions; reads: Record<string, number> } {
  const first: Record<(typeof OPTION_KEYS)[number], unknown> = {
    method: 'POST',
    path: '/first',
    headers: { 'x-first': '1' },
    body: 'first',
    idempotent: true,
    timeout: 1_000,
    signal: new AbortController().signal,
    hashKey: 'first',
  };
  const later: Record<(typeof OPTION_KEYS)[number], unknown> = {
    method: 'no spaces allowed',
    path: 'no-slash',
    headers: { 'x-meshlet-attempt': '9' },
    body: 42,
    idempotent: 'yes',
    timeout: 'soon',
    signal: AbortSignal.abort(),
    hashKey: 7,
  };
  const reads: Record<string, number> = {};
  const options = {};
  for (const key of OPTION_KEYS) {
    reads[key] = 0;
    Object.defineProperty(options, key, {
      enumerable: true,
      get: () => {
        const read = (reads[key] ?? 0) + 1;
        reads[key] = read;
        return read === 1 ? first[key] : later[key];
      },
    });
  }
  return { options: options as RequestOptions, reads };
}

describe('request options through a mesh', () => {
  let backend: Backend;
  let mesh: Mesh;
  before(async () => {
    ({ backend, mesh } = await startOneBackendMesh({ retry: false }, (req, res) => {
      res.setHeader('x-seen', `${req.method} ${req.url} ${req.headers['x-first'] ?? ''} ${req.headers['x-meshlet-timeout-ms'] ?? ''}`);
      res.end();
    }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('reads each option once: the call sends what was checked, with the timeout and signal read then', async () => {
    const { options, reads } = hostileOptions();
    const response = await mesh.client('payments').request(options);
    await response.body.dump();
    // Before: the mesh read signal and timeout again (the second signal aborted: MESH_ABORTED).
    assert.deepEqual(reads, Object.fromEntries(OPTION_KEYS.map((key) => [key, 1])));
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['x-seen'], 'POST /first 1 1000');
    assert.equal(backend.received.at(-1)?.body, 'first');
  });
});
