/**
 * TLS and mTLS against a real `https` server with certificates generated at test time, and
 * the classification of handshake failures: a refused handshake never delivered a request,
 * so it is a connect-error with maybeSent=false (see src/transport/http/errors.ts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { TlsPolicy } from '../../src/config/policy.ts';
import { TransportError } from '../../src/core/errors.ts';
import { httpTransport } from '../../src/transport/http/transport.ts';
import { testCertificates } from '../support/tls.ts';
import { contextFor, endpointFor, meshRequest, transportPolicy } from './fixtures.ts';

const certs = testCertificates();

function tls(overrides: Partial<TlsPolicy>): TlsPolicy {
  return { ca: certs.ca, cert: undefined, key: undefined, servername: undefined, rejectUnauthorized: true, ...overrides };
}

async function startHttps(requireClientCert: boolean, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<{ server: Server; port: number; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer(
    { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: requireClientCert, rejectUnauthorized: requireClientCert, maxVersion },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const name = peer.subject?.CN === undefined ? 'anonymous' : String(peer.subject.CN);
      seen.push(name);
      res.end(`hello ${name}`);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

async function call(address: string, policy: TlsPolicy | undefined): Promise<{ status: number; text: string } | TransportError> {
  const endpoint = endpointFor(address, transportPolicy(policy));
  try {
    const res = await httpTransport.call(meshRequest('POST', '/'), contextFor(endpoint));
    return { status: res.statusCode, text: await res.body.text() };
  } catch (error) {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
    return error;
  } finally {
    await endpoint.connection.destroy();
  }
}

function assertHandshakeRefused(result: unknown): void {
  assert.ok(result instanceof TransportError, 'the call must fail');
  assert.equal(result.kind, 'connect-error');
  assert.equal(result.maybeSent, false);
}

describe('https transport', () => {
  let plain: Awaited<ReturnType<typeof startHttps>>;
  let mutual: Awaited<ReturnType<typeof startHttps>>;
  let mutualTls12: Awaited<ReturnType<typeof startHttps>>;

  before(async () => {
    plain = await startHttps(false);
    mutual = await startHttps(true);
    mutualTls12 = await startHttps(true, 'TLSv1.2');
  });

  after(async () => {
    for (const { server } of [plain, mutual, mutualTls12]) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('verifies the server against the configured CA, by IP and by servername', async () => {
    assert.deepEqual(await call(`https://127.0.0.1:${plain.port}`, tls({})), { status: 200, text: 'hello anonymous' });
    assert.deepEqual(await call(`https://127.0.0.1:${plain.port}`, tls({ servername: 'localhost' })), { status: 200, text: 'hello anonymous' });
  });

  it('refuses a server whose certificate does not chain to the CA or name', async () => {
    const before = plain.seen.length;
    assertHandshakeRefused(await call(`https://127.0.0.1:${plain.port}`, tls({ ca: certs.otherCa })));
    assertHandshakeRefused(await call(`https://127.0.0.1:${plain.port}`, undefined)); // system CAs only
    assertHandshakeRefused(await call(`https://127.0.0.1:${plain.port}`, tls({ servername: 'payments.internal' })));
    assert.equal(plain.seen.length, before, 'no request reached the server');
  });

  it('presents the client certificate for mTLS', async () => {
    const result = await call(`https://127.0.0.1:${mutual.port}`, tls({ cert: certs.clientCert, key: certs.clientKey }));
    assert.deepEqual(result, { status: 200, text: 'hello client' });
    assert.equal(mutual.seen.at(-1), 'client');
  });

  it('a TLS 1.2 server refusing the missing client certificate is a connect-error never sent', async () => {
    const result = await call(`https://127.0.0.1:${mutualTls12.port}`, tls({}));
    assertHandshakeRefused(result);
    assert.match(String((result as TransportError).message), /TLS handshake failed/);
    assert.equal(mutualTls12.seen.length, 0);
  });

  it('a TLS 1.3 refusal of the client certificate fails the call and stays conservative', async () => {
    // TLS 1.3 refuses after the client's Finished: undici has written the request and often
    // sees only "other side closed", indistinguishable from a reset, so maybeSent stays true
    // unless the alert itself surfaced (then it is a handshake failure, never sent).
    const before = mutual.seen.length;
    const result = await call(`https://127.0.0.1:${mutual.port}`, tls({}));
    assert.ok(result instanceof TransportError);
    if (result.maybeSent) assert.equal(result.kind, 'reset');
    else assert.equal(result.kind, 'connect-error');
    assert.equal(mutual.seen.length, before, 'the application never saw the request');
  });

  it('https to a plain-HTTP port is a handshake failure, not a delivered request', async () => {
    const { startBackend } = await import('../support/http-backend.ts');
    const backend = await startBackend();
    try {
      assertHandshakeRefused(await call(`https://${backend.address}`, tls({})));
      assert.equal(backend.received.length, 0);
    } finally {
      await backend.close();
    }
  });
});
