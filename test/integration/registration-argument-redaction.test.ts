/**
 * Regression: mesh.register() refuses a bad argument by echoing it (`got "…"`), so its author
 * can fix it, and an HTTP check URL with credentials in it (`ftp://admin:PASSWORD@host/…`, a
 * wrong scheme) put the password in the MESH_BAD_REQUEST message, where logs keep it. The
 * echo is redacted now, like every other message meshlet raises (src/core/redact.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMesh, isMeshError } from '../../src/index.ts';

describe('regression: mesh.register() never echoes a credential it refuses', () => {
  it('regression: a refused check.http with a password in it is named without the password', async () => {
    // No agent needs to answer: the arguments are refused before anything is sent.
    const mesh = await createMesh({ service: 'web', consul: { url: 'http://127.0.0.1:1' } });
    try {
      const refused = await mesh.register({ name: 'web', port: 8080, check: { http: 'ftp://admin:hunter2-secret@host/health', interval: '10s' } }).then(
        () => assert.fail('register accepted an ftp check URL'),
        (error: unknown) => error,
      );
      assert.ok(isMeshError(refused) && refused.code === 'MESH_BAD_REQUEST', String(refused));
      assert.match(refused.message, /check\.http must be an absolute http\(s\) URL/);
      assert.doesNotMatch(refused.message, /hunter2-secret/);
      assert.match(refused.message, /ftp:\/\/\*\*\*@host\/health/, 'the rest of the URL is still shown');
    } finally {
      await mesh.close();
    }
  });
});
