/**
 * An https agent: the client trusts exactly the CA it is given (consul.ca / CONSUL_CACERT),
 * and a certificate it cannot verify is a MESH_CONSUL_FAILED saying the agent could not be
 * reached, with the TLS reason.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConsulClient } from '../../src/consul/client.ts';
import { expectMeshError } from '../support/mesh-error.ts';
import { testCertificates } from '../support/tls.ts';

describe('ConsulClient over https', () => {
  let server: Server;
  let url: string;
  const clients: ConsulClient[] = [];
  before(async () => {
    const certs = testCertificates();
    server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': '3' }).end('{"consul":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('trusts the CA it is given', async () => {
    const client = new ConsulClient({ url, ca: testCertificates().ca });
    clients.push(client);
    const result = await client.catalogServices();
    assert.deepEqual(result.value, { consul: [] });
    assert.equal(result.index, 3n);
  });

  it('a certificate from another CA is refused, with the TLS reason in the message', async () => {
    const client = new ConsulClient({ url, ca: testCertificates().otherCa });
    clients.push(client);
    const error = await expectMeshError(client.catalogServices(), 'MESH_CONSUL_FAILED');
    assert.equal(error.status, undefined);
    assert.match(error.message, /could not be reached for GET \/v1\/catalog\/services \(.*(certificate|self.signed|issuer).*\)/i);
  });
});
