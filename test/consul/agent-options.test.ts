/**
 * Which agent a mesh talks to: the `consul` option, then the consul:// control URL's agent,
 * then Consul's environment variables (CONSUL_HTTP_ADDR in both its forms, CONSUL_HTTP_SSL,
 * CONSUL_HTTP_TOKEN[_FILE], CONSUL_CACERT); bad values are MESH_CONFIG_INVALID naming where
 * they came from, without echoing a credential.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConsulAgent } from '../../src/consul/agent-options.ts';
import { parseConsulControlUrl } from '../../src/consul/control-url.ts';
import type { MeshError } from '../../src/core/errors.ts';
import { suiteTempDir } from '../support/temp-dir.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function configInvalid(naming: string, not?: string): (error: MeshError) => boolean {
  return (error) => {
    assert.equal(error.code, 'MESH_CONFIG_INVALID', error.message);
    assert.ok(error.message.startsWith(`${naming}: `), error.message);
    if (not !== undefined) assert.ok(!error.message.includes(not), `${not} echoed: ${error.message}`);
    return true;
  };
}

describe('resolveConsulAgent', () => {
  const dir = suiteTempDir('meshlet-consul-agent-');

  it('no consul option, no consul:// control, no CONSUL_HTTP_ADDR: no agent', () => {
    assert.equal(resolveConsulAgent({ env: {} }), undefined);
    assert.equal(resolveConsulAgent({ control: 'file:./mesh.json', env: { CONSUL_HTTP_TOKEN: 't' } }), undefined);
  });

  it('the consul option wins over the control URL and the environment, field by field', () => {
    const env = { CONSUL_HTTP_ADDR: 'envhost:1', CONSUL_HTTP_TOKEN: 'env-token' };
    assert.deepEqual(resolveConsulAgent({ consul: { url: 'http://opt:2', token: 'opt-token', datacenter: 'dc2' }, control: 'consul://ctl:3/meshlet', env }), {
      url: 'http://opt:2',
      token: 'opt-token',
      datacenter: 'dc2',
    });
    // url from the control URL, token from the environment
    assert.deepEqual(resolveConsulAgent({ consul: { datacenter: 'dc3' }, control: 'consul://ctl:3/meshlet', env }), { url: 'http://ctl:3', token: 'env-token', datacenter: 'dc3' });
    assert.deepEqual(resolveConsulAgent({ control: 'consul://ctl/meshlet', env }), { url: 'http://ctl:8500', token: 'env-token' });
    assert.deepEqual(resolveConsulAgent({ control: 'consul+https://ctl/meshlet', env: {} }), { url: 'https://ctl:8501' });
  });

  it('CONSUL_HTTP_ADDR as host:port or a URL; CONSUL_HTTP_SSL=true makes it https (and never reverts it to http)', () => {
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: '127.0.0.1:8500' } })?.url, 'http://127.0.0.1:8500');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'https://consul.internal:8501' } })?.url, 'https://consul.internal:8501');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: '10.0.0.1:8501', CONSUL_HTTP_SSL: 'true' } })?.url, 'https://10.0.0.1:8501');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'http://10.0.0.1:8501', CONSUL_HTTP_SSL: '1' } })?.url, 'https://10.0.0.1:8501');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'http://10.0.0.1:8500', CONSUL_HTTP_SSL: 'false' } })?.url, 'http://10.0.0.1:8500');
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'h:1', CONSUL_HTTP_SSL: 'yes' } }), configInvalid('CONSUL_HTTP_SSL'));
  });

  it('a consul option without an address anywhere means Consul\'s default agent', () => {
    assert.deepEqual(resolveConsulAgent({ consul: { token: 'x' }, env: {} }), { url: 'http://127.0.0.1:8500', token: 'x' });
  });

  it('CONSUL_HTTP_TOKEN_FILE is read (trimmed) when CONSUL_HTTP_TOKEN is unset', () => {
    const file = join(dir(), 'token');
    writeFileSync(file, 'file-token\n');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'h:1', CONSUL_HTTP_TOKEN_FILE: file } })?.token, 'file-token');
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'h:1', CONSUL_HTTP_TOKEN: 'direct', CONSUL_HTTP_TOKEN_FILE: file } })?.token, 'direct');
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'h:1', CONSUL_HTTP_TOKEN_FILE: join(dir(), 'missing') } }), configInvalid('CONSUL_HTTP_TOKEN_FILE'));
  });

  it('the CA: PEM text as given, a path read as PEM (option or CONSUL_CACERT), a bad file named', () => {
    const file = join(dir(), 'ca.pem');
    writeFileSync(file, PEM);
    assert.equal(resolveConsulAgent({ consul: { url: 'https://h:1', ca: PEM }, env: {} })?.ca, PEM);
    assert.equal(resolveConsulAgent({ consul: { url: 'https://h:1', ca: 'ca.pem' }, env: {}, baseDir: dir() })?.ca, PEM);
    assert.equal(resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'https://h:1', CONSUL_CACERT: file } })?.ca, PEM);
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'https://h:1', CONSUL_CACERT: join(dir(), 'nope.pem') } }), configInvalid('CONSUL_CACERT'));
    assert.throws(() => resolveConsulAgent({ consul: { url: 'https://h:1', ca: join(dir(), 'nope.pem') }, env: {} }), configInvalid('consul.ca'));
  });

  it('a bad URL is MESH_CONFIG_INVALID naming its source, and a password in it is not echoed', () => {
    assert.throws(() => resolveConsulAgent({ consul: { url: 'consul.internal:8500' }, env: {} }), configInvalid('consul.url'));
    assert.throws(() => resolveConsulAgent({ consul: { url: 'http://u:hunter2@h:8500' }, env: {} }), configInvalid('consul.url', 'hunter2'));
    assert.throws(() => resolveConsulAgent({ control: 'consul://u:hunter2@h:8500/meshlet', env: {} }), configInvalid('control', 'hunter2'));
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'unix:///var/run/consul.sock' } }), configInvalid('CONSUL_HTTP_ADDR'));
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'http://h:8500/sub' } }), configInvalid('CONSUL_HTTP_ADDR'));
    assert.throws(() => resolveConsulAgent({ env: { CONSUL_HTTP_ADDR: 'ftp://h:1' } }), configInvalid('CONSUL_HTTP_ADDR'));
  });
});

describe('parseConsulControlUrl', () => {
  it('reads the agent and the prefix', () => {
    assert.deepEqual(parseConsulControlUrl('consul://127.0.0.1:8500/meshlet'), { agentUrl: 'http://127.0.0.1:8500', prefix: 'meshlet' });
    assert.deepEqual(parseConsulControlUrl('consul://consul.service/teams/payments/mesh/'), { agentUrl: 'http://consul.service:8500', prefix: 'teams/payments/mesh' });
    assert.deepEqual(parseConsulControlUrl('consul+https://c:9501/m'), { agentUrl: 'https://c:9501', prefix: 'm' });
    assert.deepEqual(parseConsulControlUrl('consul://c:1'), { agentUrl: 'http://c:1', prefix: '' });
  });

  it('refuses a query (no ?token=), a foreign scheme and a missing host, naming the option', () => {
    assert.throws(() => parseConsulControlUrl('consul://c:1/m?token=s3cret', '--to'), configInvalid('--to', 's3cret'));
    assert.throws(() => parseConsulControlUrl('http://c:1/m'), configInvalid('control'));
    assert.throws(() => parseConsulControlUrl('consul:///m'), configInvalid('control'));
  });
});
