/**
 * The latency histogram behind percentile hedging: accurate to its bucket width, silent
 * until warmed up, and forgetting old traffic as the clock moves, or, for a busy service, as
 * samples pile up.
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
  });

  it('regression: interpolates within the bucket instead of reporting its top', () => {
    const histogram = new LatencyHistogram(new ManualClock(), { window: 10_000, minSamples: 10 });
    // 3.1 ms, the p95 of a 2 ms service, sits in the bucket 3.072–3.584 ms; its top is 15% late.
    for (let i = 0; i < 1_000; i++) histogram.record(3.08 + (i % 10) * 0.05); // 3.08 … 3.53 ms
    near(histogram.percentile(50), 3.3, 0.03);
    near(histogram.percentile(95), 3.5, 0.03);
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

  it('regression: a busy service follows a shift in latency within a generation of samples, not of seconds', () => {
    const options = { window: 10_000, minSamples: 50 };
    const timeOnly = new LatencyHistogram(new ManualClock(), options);
    const bounded = new LatencyHistogram(new ManualClock(), { ...options, generationSamples: 1_000 });
    // One second of a 4,000 calls/s service: slow, then fast. The clock never reaches a window.
    for (const histogram of [timeOnly, bounded]) {
      for (let i = 0; i < 2_000; i++) histogram.record(10);
      for (let i = 0; i < 2_000; i++) histogram.record(2);
    }
    near(timeOnly.percentile(95), 10, 0.13);
    near(bounded.percentile(95), 2);
    assert.ok(bounded.count <= 2_000, `holds at most two generations, not ${bounded.count} samples`);
  });

  it('regression: the first samples, the least representative, age out first', () => {
    const clock = new ManualClock();
    const histogram = new LatencyHistogram(clock, { window: 10_000, minSamples: 50, generationSamples: 1_000 });
    // Cold connections and unoptimised code: the first 50 calls take 30 ms, then 2 ms.
    for (let i = 0; i < 50; i++) histogram.record(30);
    for (let i = 0; i < 100; i++) histogram.record(2);
    near(histogram.percentile(99.9), 2, 0.13);
    // Generations then double up to their full size: 200, 400, 800, 1,000 samples.
    for (let i = 0; i < 3_000; i++) histogram.record(2);
    assert.ok(histogram.count >= 1_000, `a full generation is kept, ${histogram.count} samples`);
  });

  it('starts again from small generations after a silence that made everything stale', () => {
    const clock = new ManualClock();
    const histogram = new LatencyHistogram(clock, { window: 1_000, minSamples: 50, generationSamples: 1_000 });
    for (let i = 0; i < 5_000; i++) histogram.record(2);
    clock.advance(5_000);
    assert.equal(histogram.count, 0);
    for (let i = 0; i < 50; i++) histogram.record(30);
    for (let i = 0; i < 100; i++) histogram.record(2);
    near(histogram.percentile(99.9), 2, 0.13);
  });
});
