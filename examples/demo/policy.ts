/**
 * The 'catalog' policy every demo scenario applies, and the change each pushes mid-run
 * (hedging on). Only where the instances come from differs: a static list or Consul.
 */

export const HEDGING_ON = { hedge: { after: 'p95', maxExtraLoad: 0.05 } } as const;

/** `instances` is `{ endpoints: [...] }` or `{ discovery: {...} }`; `change` is merged last. */
export function catalogPolicy(instances: Record<string, unknown>, change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...instances,
    timeout: '1s',
    retry: { attempts: 3, on: ['connect-error', 'reset', '502', '503', '504'] },
    breaker: { errorRate: 0.5, minRequests: 20, window: '10s', openFor: '2s' },
    outlier: { consecutiveFailures: 5, ejectFor: '2s' },
    ...change,
  };
}
