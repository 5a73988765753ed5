/**
 * The call options at the door (mesh/request-options.ts): every option meshlet knows is
 * accepted, whatever else is refused with MESH_BAD_REQUEST naming it, and the timeout is
 * checked and converted by `callTimeout`, the function the mesh calls right after the parse.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { callTimeout, parseRequestOptions, type RequestOptions } from '../../src/mesh/request-options.ts';

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
    assert.equal(callTimeout('api', all), 2_000);
  });

  it('refuses an option it does not know, naming it and the one meant', () => {
    assert.throws(() => parseRequestOptions('api', { path: '/', timeoutMs: 5 }), badRequest(/timeoutMs/));
    assert.throws(() => parseRequestOptions('api', { url: 'http://api/x' }), badRequest(/mesh\.client\('payments'\)/));
    // Inherited keys are the caller's too (for-in sees them).
    assert.throws(() => parseRequestOptions('api', Object.create({ retries: 3 })), badRequest(/retries/));
  });

  it('converts the timeout, refuses one that does not parse, and has none when none is given', () => {
    assert.equal(callTimeout('api', {}), undefined);
    assert.equal(callTimeout('api', { timeout: 250 }), 250);
    assert.equal(callTimeout('api', { timeout: '800ms' }), 800);
    assert.throws(() => callTimeout('api', { timeout: 'soon' }), badRequest(/^.*timeout/));
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
});
