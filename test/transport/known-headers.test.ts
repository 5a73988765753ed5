/**
 * meshlet's header names are known to undici (known-headers.ts): its Request takes them
 * without lower-casing and validating them again, and they still reach the server as sent,
 * on a first attempt and on a retry.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { ATTEMPT_HEADER, TIMEOUT_HEADER } from '../../src/resilience/attempt.ts';
import { registerMeshHeaderNames } from '../../src/transport/http/known-headers.ts';
import '../../src/transport/http/transport.ts';
import type { Mesh } from '../../src/index.ts';
import type { Backend } from '../support/http-backend.ts';
import { startOneBackendMesh } from '../support/one-backend-mesh.ts';

const require = createRequire(import.meta.url);
const { headerNameLowerCasedRecord: known } = require('undici/lib/core/constants.js') as { headerNameLowerCasedRecord: Record<string, string | undefined> };

describe('meshlet header names known to undici', () => {
  let backend: Backend;
  let mesh: Mesh;
  let calls = 0;

  before(async () => {
    // The first request to /flaky answers 503, so the call is retried once.
    ({ backend, mesh } = await startOneBackendMesh({ retry: { attempts: 2, backoff: { base: '1ms', max: '2ms' } } }, (req, res) => {
      res.statusCode = req.url === '/flaky' && calls++ === 0 ? 503 : 200;
      res.end('ok');
    }));
  });
  after(async () => {
    await mesh.close();
    await backend.close();
  });

  it('the HTTP transport registers both names, each as itself, and registering again changes nothing', () => {
    assert.equal(known[TIMEOUT_HEADER], TIMEOUT_HEADER);
    assert.equal(known[ATTEMPT_HEADER], ATTEMPT_HEADER);
    assert.equal(registerMeshHeaderNames(), true);
    assert.equal(known[TIMEOUT_HEADER], TIMEOUT_HEADER);
  });

  it('both still reach the server as sent: the time left on the first attempt, the number on the retry', async () => {
    const seen = backend.received.length;
    const res = await mesh.client('payments').request({ path: '/flaky' });
    await res.body.text();
    assert.equal(res.statusCode, 200);
    const [first, retry] = backend.received.slice(seen);
    assert.ok(Number(first!.headers[TIMEOUT_HEADER]) > 0, `first attempt's ${TIMEOUT_HEADER}: ${first!.headers[TIMEOUT_HEADER]}`);
    assert.equal(first!.headers[ATTEMPT_HEADER], undefined);
    assert.ok(Number(retry!.headers[TIMEOUT_HEADER]) > 0);
    assert.equal(retry!.headers[ATTEMPT_HEADER], '2');
  });
});
