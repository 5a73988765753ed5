/**
 * The service's `tls` config on gRPC channels (credentials.ts), against real TLS grpc-js
 * servers with certificates made by openssl at test time (test/support/tls.ts). Before, a
 * mesh.grpc() client was plaintext whatever the config said: a TLS server was unreachable
 * (UNAVAILABLE) and `servername`, `ca` and the client certificate were ignored.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { testCertificates } from '../support/tls.ts';
import { suiteTempDir } from '../support/temp-dir.ts';
import { pushableStore } from '../support/pushable-store.ts';
import { type Any, type InventoryServer, type Item, InventoryClient, settle, startInventoryServer, unary } from './inventory-server.ts';

describe('grpc channels follow the service tls config', () => {
  const dir = suiteTempDir('meshlet-grpc-tls-');
  const certs = testCertificates();
  let tlsServer: InventoryServer;
  let mtlsServer: InventoryServer;
  before(async () => {
    await writeFile(join(dir(), 'ca.pem'), certs.ca);
    await writeFile(join(dir(), 'other-ca.pem'), certs.otherCa);
    await writeFile(join(dir(), 'client.pem'), certs.clientCert);
    await writeFile(join(dir(), 'client.key'), certs.clientKey);
    const keyPair = [{ cert_chain: Buffer.from(certs.serverCert), private_key: Buffer.from(certs.serverKey) }];
    tlsServer = await startInventoryServer('tls', {}, grpc.ServerCredentials.createSsl(null, keyPair, false));
    mtlsServer = await startInventoryServer('mtls', {}, grpc.ServerCredentials.createSsl(Buffer.from(certs.ca), keyPair, true));
  });
  after(() => {
    tlsServer?.kill();
    mtlsServer?.kill();
  });

  async function callWith(server: InventoryServer, tls: Record<string, unknown>): Promise<{ ok: true; value: Item } | { ok: false; error: Any }> {
    const mesh = await createMesh({ service: 't', baseDir: dir(), config: { services: { inventory: { endpoints: [server.address], tls, timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    try {
      return await settle(unary<Item>(client, 'GetItem', { id: 'x' }));
    } finally {
      client.close();
      await mesh.close();
    }
  }

  it('a service with tls { ca } reaches a TLS server; unreachable when its CA is not trusted, unless rejectUnauthorized is false', async () => {
    const trusted = await callWith(tlsServer, { ca: 'ca.pem' });
    assert.ok(trusted.ok, `over TLS: ${!trusted.ok && trusted.error.message}`);
    assert.equal(trusted.value.server, 'tls');
    const untrusted = await callWith(tlsServer, { ca: 'other-ca.pem' });
    assert.equal(untrusted.ok, false);
    assert.equal(!untrusted.ok && untrusted.error.code, grpc.status.UNAVAILABLE);
    const unchecked = await callWith(tlsServer, { ca: 'other-ca.pem', rejectUnauthorized: false });
    assert.ok(unchecked.ok, `rejectUnauthorized: false: ${!unchecked.ok && unchecked.error.message}`);
  });

  it('servername is the name the certificate is checked against', async () => {
    const right = await callWith(tlsServer, { ca: 'ca.pem', servername: 'localhost' });
    assert.ok(right.ok, `servername localhost: ${!right.ok && right.error.message}`);
    const wrong = await callWith(tlsServer, { ca: 'ca.pem', servername: 'not-the-server.example' });
    assert.equal(!wrong.ok && wrong.error.code, grpc.status.UNAVAILABLE, 'a certificate for another name is refused');
  });

  it('mTLS: the client certificate from cert + key is presented; without it the server refuses', async () => {
    const withCert = await callWith(mtlsServer, { ca: 'ca.pem', cert: 'client.pem', key: 'client.key' });
    assert.ok(withCert.ok, `mTLS: ${!withCert.ok && withCert.error.message}`);
    assert.equal(withCert.value.server, 'mtls');
    const without = await callWith(mtlsServer, { ca: 'ca.pem' });
    assert.equal(without.ok, false);
  });

  it('a push that changes tls leaves a live client on its credentials and reports it once', async () => {
    const store = pushableStore({ services: { inventory: { tls: { ca: 'ca.pem' } } } });
    const mesh = await createMesh({ service: 't', control: store, baseDir: dir(), config: { services: { inventory: { endpoints: [tlsServer.address], timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient);
    const reports: Any[] = [];
    mesh.on('control-error', (event) => reports.push(event));
    try {
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'a' })).server, 'tls');
      const pushed = new Promise<void>((resolve) => {
        const off = mesh.on('config', () => {
          off();
          resolve();
        });
      });
      store.push({ services: { inventory: { tls: { ca: 'other-ca.pem' } } } });
      await pushed;
      for (let i = 0; i < 2; i++) assert.equal((await unary<Item>(client, 'GetItem', { id: `b${i}` })).server, 'tls', 'the live channel keeps its credentials');
      assert.equal(reports.length, 1);
      assert.equal(reports[0].source, 'grpc:inventory');
      assert.match(reports[0].error.message, /tls config of 'inventory' changed/);
      assert.ok(!reports[0].error.message.includes('BEGIN'), 'no certificate or key in the report');
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('a key that does not match its certificate, or PEM that does not decode, is a MESH_CONFIG_INVALID from mesh.grpc(), not OpenSSL\'s bare Error', async () => {
    await writeFile(join(dir(), 'server.key'), certs.serverKey);
    await writeFile(join(dir(), 'broken.pem'), '-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n');
    for (const tls of [{ ca: 'ca.pem', cert: 'client.pem', key: 'server.key' }, { ca: 'ca.pem', cert: 'broken.pem', key: 'client.key' }]) {
      const mesh = await createMesh({ service: 't', baseDir: dir(), config: { services: { inventory: { endpoints: [tlsServer.address], tls } } } });
      try {
        assert.throws(
          () => mesh.grpc('inventory', InventoryClient),
          (error: Any) => {
            assert.equal(error.code, 'MESH_CONFIG_INVALID', `${tls.cert}: ${error.message}`);
            assert.equal(error.issues[0].path, 'services.inventory.tls');
            assert.match(error.message, /tls config of 'inventory'.*cert and key/);
            assert.ok(!error.message.includes('BEGIN'), 'no PEM in the message');
            return true;
          },
        );
      } finally {
        await mesh.close();
      }
    }
  });

  it("regression: a servername given in channelOptions ('grpc.ssl_target_name_override') was replaced by each endpoint's host", async () => {
    const mesh = await createMesh({ service: 't', baseDir: dir(), config: { services: { inventory: { endpoints: [tlsServer.address], tls: { ca: 'ca.pem' }, timeout: '2s' } } } });
    const client = mesh.grpc('inventory', InventoryClient, { channelOptions: { 'grpc.ssl_target_name_override': 'not-the-server.example' } });
    try {
      const result = await settle(unary<Item>(client, 'GetItem', { id: 'o' }));
      assert.equal(!result.ok && result.error.code, grpc.status.UNAVAILABLE, "the caller's name is the one the certificate is checked against");
    } finally {
      client.close();
      await mesh.close();
    }
  });

  it('credentials passed to mesh.grpc() win over the config', async () => {
    const mesh = await createMesh({ service: 't', baseDir: dir(), config: { services: { inventory: { endpoints: [tlsServer.address], tls: { ca: 'other-ca.pem' }, timeout: '2s' } } } });
    // Theirs entirely: grpc-js then checks the certificate against the channel's authority (the service name) unless told otherwise.
    const client = mesh.grpc('inventory', InventoryClient, { credentials: grpc.credentials.createSsl(Buffer.from(certs.ca)), channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } });
    try {
      assert.equal((await unary<Item>(client, 'GetItem', { id: 'y' })).server, 'tls');
    } finally {
      client.close();
      await mesh.close();
    }
  });
});
