/**
 * Regression: the endpoint cache kept one file per service name, so two services on two Consul
 * agents sharing a cacheDir, each calling an `api`, overwrote one `api.json` in turn; after a
 * restart during an outage the question check refused the other's list and one of them started
 * with no endpoints. Each (service, question) now has its own file; a file from before is read.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EndpointCache } from '../../src/mesh/endpoint-cache.ts';
import { makeAddress } from '../../src/discovery/address.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

describe('regression: endpoint cache files are per service and question', () => {
  const dir = suiteTempDir('meshlet-endpoint-cache-');

  it('two questions for one service name keep their own lists in a shared cacheDir', async () => {
    const shared = join(dir(), 'shared');
    const first = new EndpointCache(shared);
    const second = new EndpointCache(shared);
    const a = makeAddress('http', '10.0.0.1', 80);
    const b = makeAddress('http', '10.0.0.2', 80);
    first.write('api', 'consul://agent-a/api', [a]);
    second.write('api', 'consul://agent-b/api', [b]);
    await Promise.all([first.flushed(), second.flushed()]);

    const restarted = new EndpointCache(shared);
    assert.deepEqual((await restarted.read('api', 'consul://agent-a/api'))?.endpoints.map((e) => e.id), [a.id]);
    assert.deepEqual((await restarted.read('api', 'consul://agent-b/api'))?.endpoints.map((e) => e.id), [b.id]);
    assert.equal(await restarted.read('api', 'consul://agent-c/api'), undefined, 'another question finds nothing');
  });

  it('a <service>.json written before is still read when its question matches', async () => {
    const old = join(dir(), 'old');
    await mkdir(join(old, 'endpoints'), { recursive: true });
    const address = makeAddress('http', '10.0.0.3', 80);
    await writeFile(join(old, 'endpoints', 'api.json'), JSON.stringify({ question: 'q-old', savedAt: Date.now(), endpoints: [address] }));
    const cache = new EndpointCache(old);
    assert.deepEqual((await cache.read('api', 'q-old'))?.endpoints.map((e) => e.id), [address.id]);
    assert.equal(await cache.read('api', 'q-other'), undefined);
  });
});
