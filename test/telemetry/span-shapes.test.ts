/**
 * The per-stack memo of span names, start attributes and url.full (span-shapes.ts): what it
 * returns must be exactly what building them afresh gives, query values redacted, whatever
 * order paths and origins come in; raw methods outside the semconv set are not remembered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, EndpointAddress } from '../../src/core/endpoint.ts';
import { redactedUrl } from '../../src/telemetry/redact-url.ts';
import { CallSpanShapes, UrlShapes } from '../../src/telemetry/span-shapes.ts';

/** An endpoint as the attempt layer sees it: its origin built from its address when asked. */
function endpointAt(port: number, protocol = 'http'): Endpoint {
  const address = { id: `127.0.0.1:${port}`, host: '127.0.0.1', port, protocol } as unknown as EndpointAddress;
  return { address, get origin() { return `${protocol}://127.0.0.1:${port}`; } } as unknown as Endpoint;
}

describe('UrlShapes', () => {
  it('gives redactedUrl for every (endpoint, path), switching paths and endpoints', () => {
    const urls = new UrlShapes();
    const one = endpointAt(1);
    const two = endpointAt(2);
    const asks = [
      [one, '/a?token=s3cret'],
      [one, '/a?token=other'],
      [two, '/a?token=s3cret'],
      [one, '/a?token=s3cret'],
      [one, '/b#frag'],
      [one, '/b#frag'],
      [two, '/'],
    ] as const;
    for (const [endpoint, path] of asks) {
      const url = urls.url(endpoint, path);
      assert.equal(url, redactedUrl(endpoint.origin, path));
      assert.ok(!url.includes('s3cret') && !url.includes('other'), url);
    }
  });

  it('builds the URL again when discovery replaces an endpoint\'s address (its protocol changed)', () => {
    const urls = new UrlShapes();
    const plain = endpointAt(1);
    assert.equal(urls.url(plain, '/x?q=1'), 'http://127.0.0.1:1/x?q=REDACTED');
    const tls = endpointAt(1, 'https');
    assert.equal(urls.url(tls, '/x?q=1'), 'https://127.0.0.1:1/x?q=REDACTED');
  });
});

describe('CallSpanShapes', () => {
  it('names the span {method} {service}, HTTP for a method outside the semconv set, with the route', () => {
    const shapes = new CallSpanShapes('payments', 'refunds');
    assert.deepEqual(shapes.of('GET'), { name: 'GET payments', attributes: { 'meshlet.service': 'payments', 'http.request.method': 'GET', 'meshlet.route': 'refunds' } });
    assert.equal(shapes.of('GET'), shapes.of('GET'), 'built once');
    assert.deepEqual(shapes.of('BREW'), { name: 'HTTP payments', attributes: { 'meshlet.service': 'payments', 'http.request.method': '_OTHER', 'meshlet.route': 'refunds' } });
    assert.notEqual(shapes.of('BREW'), shapes.of('BREW'), 'a raw method outside the set is not remembered');
    assert.ok(Object.isFrozen(shapes.of('POST').attributes));
  });
});
