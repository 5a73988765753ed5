/**
 * `meshlet get consul://host:port/prefix` as a child process: the document the meshes
 * assemble from KV (JSON or YAML, whole or one service with the defaults), and a config a
 * mesh would refuse reported with its key (exit 1).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import YAML from 'yaml';
import { consulForTests } from '../support/consul.ts';
import { consulSuite } from '../support/consul-suite.ts';
import { consulUrl, meshlet, suiteConfigDir } from './cli-harness.ts';

describe('meshlet get', () => {
  const suite = consulSuite(consulForTests);
  const dir = suiteConfigDir();
  before(async () => {
    // A hand-written YAML value beside JSON ones, as `consul kv put` leaves them.
    await suite.consul.kv.put('get-doc/defaults', 'timeout: 2s\nretry:\n  attempts: 3\n');
    await suite.consul.kv.put('get-doc/services/payments', '{"endpoints": ["127.0.0.1:9001"]}');
    await suite.consul.kv.put('get-doc/services/search', '{"endpoints": ["127.0.0.1:9002"], "balancer": "round-robin"}');
    await suite.consul.kv.put('get-doc-other/defaults', '{"timeout": "9s"}');
  });
  const env = (): Record<string, string> => (suite.consul.token === undefined ? {} : { CONSUL_HTTP_TOKEN: suite.consul.token });
  const run = (args: string[]) => meshlet(args, { cwd: dir.path, env: env() });

  it('prints the effective config document assembled from the prefix (and nothing of a sibling prefix)', async () => {
    const result = await run(['get', consulUrl(suite.consul.url, 'get-doc')]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), {
      defaults: { timeout: '2s', retry: { attempts: 3 } },
      services: { payments: { endpoints: ['127.0.0.1:9001'] }, search: { endpoints: ['127.0.0.1:9002'], balancer: 'round-robin' } },
    });
    assert.equal(result.stderr, '');
  });

  it('--service prints the defaults and that service; --format yaml prints YAML', async () => {
    const result = await run(['get', consulUrl(suite.consul.url, 'get-doc'), '--service', 'search', '--format', 'yaml']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(YAML.parse(result.stdout), { defaults: { timeout: '2s', retry: { attempts: 3 } }, services: { search: { endpoints: ['127.0.0.1:9002'], balancer: 'round-robin' } } });
    const absent = await run(['get', consulUrl(suite.consul.url, 'get-doc'), '--service', 'nope']);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /has no entry for service "nope"/);
  });

  it('a config every mesh would refuse: printed when it parses, problems on stderr naming the key, exit 1', async () => {
    await suite.consul.kv.put('get-bad/services/payments', '{"endpoints": ["127.0.0.1:9001"], "retry": {"attempts": 0}}');
    const invalid = await run(['get', consulUrl(suite.consul.url, 'get-bad')]);
    assert.equal(invalid.code, 1);
    assert.deepEqual(JSON.parse(invalid.stdout), { services: { payments: { endpoints: ['127.0.0.1:9001'], retry: { attempts: 0 } } } });
    assert.match(invalid.stderr, /would be refused by every mesh \(1 problem\):\n {2}get-bad\/services\/payments: retry\.attempts: expected an integer ≥ 1/);

    await suite.consul.kv.put('get-broken/defaults', '{"timeout": ');
    const broken = await run(['get', consulUrl(suite.consul.url, 'get-broken')]);
    assert.equal(broken.code, 1);
    assert.equal(broken.stdout, '');
    assert.match(broken.stderr, /get-broken\/defaults: .*is not valid JSON/);
  });
});
