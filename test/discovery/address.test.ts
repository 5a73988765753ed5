/** Endpoint addresses as users write them become one stable shape and id. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMeshError } from '../../src/core/errors.ts';
import { parseAddress } from '../../src/discovery/address.ts';

describe('parseAddress', () => {
  it('parses host:port, bracketed IPv6 and URLs with default ports', () => {
    const cases: [string, string, string, string, number][] = [
      ['127.0.0.1:9001', '127.0.0.1:9001', 'http', '127.0.0.1', 9001],
      ['[::1]:9001', '[::1]:9001', 'http', '::1', 9001],
      ['http://h:7', 'h:7', 'http', 'h', 7],
      ['https://10.0.0.7:8443', 'https://10.0.0.7:8443', 'https', '10.0.0.7', 8443],
      ['https://payments.internal', 'https://payments.internal:443', 'https', 'payments.internal', 443],
      ['http://payments.internal/', 'payments.internal:80', 'http', 'payments.internal', 80],
      ['https://[fd00::7]:8443', 'https://[fd00::7]:8443', 'https', 'fd00::7', 8443],
    ];
    for (const [spec, id, protocol, host, port] of cases) {
      const address = parseAddress(spec);
      assert.deepEqual({ id: address.id, protocol: address.protocol, host: address.host, port: address.port }, { id, protocol, host, port }, spec);
      assert.equal(address.weight, 1);
    }
  });

  it('writes the same endpoint to the same id whichever way it was spelled', () => {
    assert.equal(parseAddress('HTTP://Example.COM:8080').id, parseAddress('example.com:8080').id);
    assert.equal(parseAddress('http://127.0.0.1:80').id, parseAddress('127.0.0.1:80').id);
  });

  it('keeps labels', () => {
    const address = parseAddress('127.0.0.1:1', { weight: 3, tags: ['v2'], meta: { zone: 'a' } });
    assert.equal(address.weight, 3);
    assert.deepEqual(address.tags, ['v2']);
    assert.deepEqual(address.meta, { zone: 'a' });
  });

  it('rejects garbage with MESH_CONFIG_INVALID and a message that says what to write', () => {
    for (const spec of ['', 'x', '127.0.0.1', '127.0.0.1:99999', '127.0.0.1:0', 'ftp://a:1', 'http://a:1/path', 'http://a:1?q=1', 'a b:1', ':80']) {
      assert.throws(
        () => parseAddress(spec),
        (error: unknown) => isMeshError(error) && error.code === 'MESH_CONFIG_INVALID' && /host:port/.test(error.message),
        JSON.stringify(spec),
      );
    }
  });

  it('never echoes credentials in the error', () => {
    assert.throws(
      () => parseAddress('http://user:s3cret@h:1'),
      (error: unknown) => isMeshError(error) && !error.message.includes('s3cret') && !JSON.stringify(error.issues).includes('s3cret'),
    );
  });
});
