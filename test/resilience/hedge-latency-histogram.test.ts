/**
 * The latency histogram behind percentile hedging: accurate to its bucket width, silent
 * until warmed up, and forgetting old traffic as the clock moves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import { LatencyHistogram } from '../../src/resilience/latency-histogram.ts';

function near(actual: number | undefined, expected: number, relative = 0.13): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= expected * relative, `${actual} ≉ ${expected}`);
}

describe('latency histogram', () => {
  it('reports percentiles within one bucket (12.5%) of the truth', () => {
    const histogram = new LatencyHistogram(new ManualClock(), { window: 10_000, minSamples: 10 });
    for (let i = 1; i <= 1_000; i++) histogram.record(i / 10); // 0.1 ms … 100 ms, uniform
    near(histogram.percentile(50), 50);
    near(histogram.percentile(95), 95);
    near(histogram.percentile(99), 99);
    assert.ok(histogram.percentile(95)! >= 95, 'rounded up, never below the true value');
  });

  it('says nothing until it has enough samples', () => {
    const histogram = new LatencyHistogram(new ManualClock(), { window: 10_000, minSamples: 50 });
    for (let i = 0; i < 49; i++) histogram.record(5);
    assert.equal(histogram.percentile(95), undefined);
    histogram.record(5);
    near(histogram.percentile(95), 5);
  });

  it('follows a shift in latency and forgets samples older than two windows', () => {
    const clock = new ManualClock();
    const histogram = new LatencyHistogram(clock, { window: 1_000, minSamples: 10 });
    for (let i = 0; i < 100; i++) histogram.record(2);
    near(histogram.percentile(50), 2);
    clock.advance(1_000);
    for (let i = 0; i < 300; i++) histogram.record(40);
    near(histogram.percentile(50), 40, 0.13);
    assert.equal(histogram.count, 400);
    clock.advance(1_000);
    assert.equal(histogram.count, 300, 'the 2 ms generation aged out');
    clock.advance(5_000);
    assert.equal(histogram.count, 0);
    assert.equal(histogram.percentile(50), undefined);
  });

  it('handles extremes without leaving its fixed buckets', () => {
    const histogram = new LatencyHistogram(new ManualClock(), { window: 1_000, minSamples: 1 });
    histogram.record(0);
    histogram.record(1e9);
    assert.ok(histogram.percentile(100)! > 100_000);
    assert.ok(histogram.percentile(1)! <= 0.002);
  });
});
