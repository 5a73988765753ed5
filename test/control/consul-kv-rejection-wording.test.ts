/**
 * Regression (wording): a push rejected because a key does not parse began "The config under
 * Consul KV meshlet/ is invalid", one rejected because a policy is invalid "The config in
 * Consul KV is invalid"; both now read the same. And `createMesh({ consul: { ca } })` takes
 * the CA as text or a Buffer, as the agent options do (it accepted only a string).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { documentFromEntries, locateIssues } from '../../src/control/consul-layout.ts';
import { isMeshError, type MeshOptions } from '../../src/index.ts';
import { validateMeshConfig } from '../../src/config/validate.ts';

async function rejection(work: () => Promise<unknown>): Promise<string> {
  const error = await work().then(
    () => assert.fail('not rejected'),
    (e: unknown) => e,
  );
  assert.ok(isMeshError(error));
  assert.equal(error.code, 'MESH_CONFIG_INVALID');
  return error.message;
}

it('regression: an unparsable key and an invalid policy in Consul KV are rejected in the same words', async () => {
  const unparsable = await rejection(() => documentFromEntries('meshlet', [{ key: 'meshlet/defaults', value: '{ not json' }]));
  const invalid = await rejection(async () => {
    const { document, keyOf } = await documentFromEntries('meshlet', [{ key: 'meshlet/defaults', value: '{"retry": {"attempts": -1}}' }]);
    try {
      validateMeshConfig(document);
    } catch (error) {
      throw isMeshError(error) ? locateIssues(error, keyOf) : error;
    }
  });
  const opening = (message: string): string => message.slice(0, message.indexOf(' is invalid'));
  assert.equal(opening(unparsable), 'The config in Consul KV');
  assert.equal(opening(invalid), opening(unparsable));
  assert.match(unparsable, /meshlet\/defaults/);
  assert.match(invalid, /meshlet\/defaults: retry\.attempts/);
});

it('MeshOptions.consul.ca takes a Buffer as the agent options do (type-checked by tsc)', () => {
  const options: MeshOptions = { service: 'caller', consul: { url: 'https://127.0.0.1:8501', ca: Buffer.from('PEM') } };
  assert.ok(Buffer.isBuffer(options.consul?.ca));
});
