/**
 * The per-stack memo of span names, start attributes and url.full (span-shapes.ts): what it
 * returns must be exactly what building them afresh gives, query values redacted, whatever
 * order paths and origins come in; raw methods outside the semconv set are not remembered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactedUrl } from '../../src/telemetry/redact-url.ts';
import { CallSpanShapes, UrlShapes } from '../../src/telemetry/span-shapes.ts';

describe('UrlShapes', () => {
  it('gives redactedUrl for every (origin, path), switching paths and origins', () => {
    const urls = new UrlShapes();
    const asks = [
      ['http://127.0.0.1:1', '/a?token=s3cret'],
      ['http://127.0.0.1:1', '/a?token=other'],
      ['http://127.0.0.1:2', '/a?token=s3cret'],
      ['http://127.0.0.1:1', '/a?token=s3cret'],
      ['http://127.0.0.1:1', '/b#frag'],
      ['http://127.0.0.1:1', '/b#frag'],
      ['http://127.0.0.1:2', '/'],
    ] as const;
    for (const [origin, path] of asks) {
      const url = urls.url(origin, path);
      assert.equal(url, redactedUrl(origin, path));
      assert.ok(!url.includes('s3cret') && !url.includes('other'), url);
    }
  });

  it("stays exact past the memo's bound (it starts over)", () => {
    const urls = new UrlShapes();
    for (let round = 0; round < 2; round++) for (let port = 1; port <= 600; port++) assert.equal(urls.url(`http://127.0.0.1:${port}`, '/x?q=1'), `http://127.0.0.1:${port}/x?q=REDACTED`);
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
