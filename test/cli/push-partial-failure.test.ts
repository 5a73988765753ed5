/**
 * Regression: `meshlet push` writes key by key; when Consul failed a later write (a 403 on
 * one key, a 5xx, a timeout) the message named only the failed request, not the keys already
 * written, so the operator could not tell that KV now held half of the push. The cas conflict
 * path said so already; a Consul failure now says the same.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ConsulEmulator, startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulUrl, meshletInProcess, suiteConfigDir } from './cli-harness.ts';

describe('regression: meshlet push failing mid-way names what it wrote', () => {
  const secret = 'push-partial-secret-7a8b9c';
  let consul: ConsulEmulator;
  before(async () => {
    // The token may write push-partial/defaults only: the second key's write is refused.
    consul = await startConsulEmulator({ acl: { defaultPolicy: 'deny', tokens: { [secret]: { policy: 'write', keyPrefix: 'push-partial/defaults' } } } });
  });
  after(async () => {
    await consul.close();
  });
  const dir = suiteConfigDir();

  it('regression: a Consul failure on the second key says the first was written and nothing after', async () => {
    const file = await dir.write('partial.json', { defaults: { timeout: '1s' }, services: { payments: { endpoints: ['http://127.0.0.1:9'] } } });
    const result = await meshletInProcess(['push', file, '--to', consulUrl(consul.url, 'push-partial')], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: secret } }, {});
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /refused PUT \/v1\/kv\/push-partial\/services\/payments\?cas=0 with 403/);
    assert.match(result.stderr, /1 key written before it \(push-partial\/defaults\), nothing after/);
    assert.doesNotMatch(result.stderr, new RegExp(secret));
    assert.notEqual(await consul.kv.get('push-partial/defaults'), undefined, 'the first key was written');
  });

  it('a failure on the first key says nothing was written', async () => {
    const file = await dir.write('first.json', { services: { payments: { endpoints: ['http://127.0.0.1:9'] } } });
    const result = await meshletInProcess(['push', file, '--to', consulUrl(consul.url, 'push-partial')], { cwd: dir.path, env: { CONSUL_HTTP_TOKEN: secret } }, {});
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /with 403 .*; nothing was written/);
  });
});
