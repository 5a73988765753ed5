/**
 * One ServicePolicy for tests: every switchable policy off, static discovery with no
 * endpoints, round-robin, no deadline. Tests and harnesses override what they exercise.
 */
import type { ServicePolicy } from '../../src/config/policy.ts';

export function policyWith(overrides: Partial<ServicePolicy> = {}): ServicePolicy {
  return {
    name: 'test',
    discovery: { type: 'static', endpoints: [] },
    balancer: { policy: 'round-robin' },
    timeout: false,
    perTryTimeout: false,
    retry: false,
    hedge: false,
    breaker: false,
    outlier: false,
    rateLimit: false,
    concurrency: false,
    tls: undefined,
    fault: false,
    pool: { connections: 16, keepAliveTimeout: 4_000, connectTimeout: 1_000 },
    subsets: {},
    routes: [],
    ...overrides,
  };
}
