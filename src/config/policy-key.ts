/**
 * Policy identity. The mesh rebuilds only the services whose policy changed, so it needs a
 * cheap, exact "same policy?" test: a canonical JSON string (sorted keys) per policy. Policies
 * are plain data, so two policies are equal exactly when their keys are.
 */
import type { ServicePolicy } from './policy.ts';

export function policyKey(policy: ServicePolicy): string {
  return JSON.stringify(policy, (_key, value: unknown) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = (value as Record<string, unknown>)[key];
    return sorted;
  });
}

export function policyEquals(a: ServicePolicy, b: ServicePolicy): boolean {
  return a === b || policyKey(a) === policyKey(b);
}

/** Names of services added, removed or changed between two resolved configs, sorted. */
export function changedServices(
  previous: ReadonlyMap<string, ServicePolicy>,
  next: ReadonlyMap<string, ServicePolicy>,
): string[] {
  const changed = new Set<string>();
  for (const [name, policy] of next) {
    const before = previous.get(name);
    if (before === undefined || !policyEquals(before, policy)) changed.add(name);
  }
  for (const name of previous.keys()) if (!next.has(name)) changed.add(name);
  return [...changed].sort();
}
