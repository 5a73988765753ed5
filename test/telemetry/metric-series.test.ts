/**
 * metric-series.ts: the attribute sets per (status, outcome) are built once and reused, and
 * the call counts behind the observable `meshlet.client.calls` add up across stacks of one
 * service (a rebuilt stack, a second mesh) as the synchronous counter's did.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { type CallCounts, MetricSeries } from '../../src/telemetry/metric-series.ts';

it('reuses one attribute object per call series and per attempt series', () => {
  const counts: CallCounts = new Map();
  const series = new MetricSeries('payments', 'checkout');
  const ok = series.call(counts, 200, 'success');
  assert.equal(series.call(counts, 204, 'success'), ok, '200 and 204 are one series (status class 2xx)');
  assert.deepEqual(ok.attributes, { 'meshlet.service': 'payments', 'meshlet.status_class': '2xx', 'meshlet.outcome': 'success', 'meshlet.route': 'checkout' });
  assert.notEqual(series.call(counts, 503, 'failure'), ok);
  assert.equal(series.call(counts, undefined, 'failure').attributes['meshlet.status_class'], 'error');
  const attempt = series.attempt('GET', 503, '503');
  assert.equal(series.attempt('GET', 503, '503'), attempt);
  assert.deepEqual(attempt, { 'http.request.method': 'GET', 'server.address': 'payments', 'http.response.status_code': 503, 'error.type': '503', 'meshlet.route': 'checkout' });
  assert.deepEqual(series.attempt('POST', undefined, 'ECONNREFUSED'), { 'http.request.method': 'POST', 'server.address': 'payments', 'error.type': 'ECONNREFUSED', 'meshlet.route': 'checkout' });
  assert.ok(Object.isFrozen(attempt) && Object.isFrozen(ok.attributes), 'shared with the SDK: nobody may change them');
});

it('regression: two stacks of one service count into one series, and new instruments start from zero', () => {
  const counts: CallCounts = new Map();
  const before = new MetricSeries('payments', undefined);
  const rebuilt = new MetricSeries('payments', undefined);
  before.call(counts, 200, 'success').count++;
  rebuilt.call(counts, 200, 'success').count++;
  assert.equal(counts.size, 1, 'one attribute set, observed once (two observations of one set: the SDK keeps the last)');
  assert.equal([...counts.values()][0]!.count, 2);
  const fresh: CallCounts = new Map();
  assert.equal(before.call(fresh, 200, 'success').count, 0, 'the cached series belonged to the old instruments');
  assert.equal(fresh.size, 1);
});
