import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AdaptiveLimit } from '../../src/resilience/adaptive-limit.ts';

/** Feeds `windows` windows of samples at `rttMs`, with the limiter saturated. */
function feed(limit: AdaptiveLimit, windows: number, rttMs: number): void {
  for (let i = 0; i < windows * 10; i++) limit.onSample(rttMs, limit.limit);
}

describe('adaptive limit (gradient)', () => {
  it('grows while latency stays at its baseline, up to max', () => {
    const limit = new AdaptiveLimit({ initial: 10, min: 2, max: 40 });
    feed(limit, 5, 10);
    const grown = limit.limit;
    assert.ok(grown > 10, `grew to ${grown}`);
    feed(limit, 200, 10);
    assert.equal(limit.limit, 40);
  });

  it('falls when latency climbs, and recovers when it drops back', () => {
    const limit = new AdaptiveLimit({ initial: 20, min: 2, max: 100 });
    feed(limit, 40, 10);
    const healthy = limit.limit;
    feed(limit, 10, 60);
    const congested = limit.limit;
    assert.ok(congested < healthy / 2, `fell from ${healthy} to ${congested}`);
    assert.ok(congested >= 2, 'never below min');
    feed(limit, 30, 10);
    assert.ok(limit.limit > congested * 2, `recovered from ${congested} to ${limit.limit}`);
  });

  it('does not grow when the limit is not the bottleneck', () => {
    const limit = new AdaptiveLimit({ initial: 20, min: 2, max: 100 });
    for (let i = 0; i < 500; i++) limit.onSample(10, 3);
    assert.equal(limit.limit, 20);
  });
});
