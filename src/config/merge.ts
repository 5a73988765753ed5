/**
 * Merging one config level over the state accumulated from the levels below it. The rules
 * (DESIGN §3): objects merge deeply, so `retry: {attempts: 3}` keeps the backoff and budget
 * below it; `false` turns a policy off; `true` turns it on, keeping what lower levels set or
 * the built-in values when it was off; an object over an off policy starts from the built-in
 * values; arrays (routes among them), endpoint lists, subsets and scalars replace. Changing a balancer's policy, a
 * concurrency limit's mode or the discovery type starts from that kind's defaults.
 */
import {
  DEFAULT_ADAPTIVE_CONCURRENCY,
  DEFAULT_BALANCERS,
  DEFAULT_DISCOVERY,
  DEFAULT_FIXED_CONCURRENCY,
  NESTED_WHEN_ON,
  WHEN_ON,
} from './defaults.ts';
import type { DefaultsConfig, ServiceConfig } from './schema.ts';

export type PolicyTree = Readonly<Record<string, unknown>>;

/** Values that are replaced whole even though they are objects. */
const ATOMIC_KEYS = new Set(['after']);
/**
 * A service's subsets are replaced whole by a level that sets them: a subset merged key by key
 * with a lower level's could select endpoints by tags one level wrote and meta another did.
 */
const REPLACED_WHOLE = new Set(['subsets']);

export function applyLevel(state: PolicyTree, level: ServiceConfig | DefaultsConfig | undefined): PolicyTree {
  if (level === undefined) return state;
  const next: Record<string, unknown> = { ...state };
  for (const [key, value] of Object.entries(level)) {
    if (value === undefined) continue;
    if (key === 'endpoints') next.discovery = { type: 'static', endpoints: value };
    else if (key === 'discovery') next.discovery = mergeValue(sameKind(state.discovery, 'type', value) ?? defaultDiscovery(value), value);
    else if (key === 'balancer') next.balancer = mergeValue(sameKind(state.balancer, 'policy', value) ?? defaultBalancer(value), value);
    else if (key === 'concurrency') next.concurrency = mergeConcurrency(state.concurrency, value);
    else if (REPLACED_WHOLE.has(key)) next[key] = value;
    else next[key] = mergeValue(state[key], value, WHEN_ON[key], NESTED_WHEN_ON[key]);
  }
  return next;
}

function mergeValue(base: unknown, over: unknown, whenOn?: unknown, nestedWhenOn?: PolicyTree): unknown {
  if (over === true) return isObject(base) ? base : (whenOn ?? true);
  if (!isObject(over)) return over;
  const start: PolicyTree = isObject(base) ? base : isObject(whenOn) ? whenOn : {};
  const result: Record<string, unknown> = { ...start };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    result[key] = ATOMIC_KEYS.has(key) ? value : mergeValue(start[key], value, nestedWhenOn?.[key]);
  }
  return result;
}

/** The concurrency mode is adaptive exactly when the level says `adaptive: true`. */
function mergeConcurrency(base: unknown, over: unknown): unknown {
  if (over === false) return false;
  if (over === true) return isObject(base) ? base : DEFAULT_ADAPTIVE_CONCURRENCY;
  const adaptive = isObject(over) && over.adaptive === true;
  const sameMode = isObject(base) && (base.adaptive === true) === adaptive;
  const start = sameMode ? base : adaptive ? DEFAULT_ADAPTIVE_CONCURRENCY : DEFAULT_FIXED_CONCURRENCY;
  return mergeValue(start, { ...(over as PolicyTree), adaptive });
}

function sameKind(base: unknown, field: string, over: unknown): PolicyTree | undefined {
  return isObject(base) && isObject(over) && base[field] === over[field] ? base : undefined;
}

function defaultDiscovery(over: unknown): PolicyTree {
  const type = (over as { type: keyof typeof DEFAULT_DISCOVERY }).type;
  return DEFAULT_DISCOVERY[type];
}

function defaultBalancer(over: unknown): PolicyTree {
  const policy = (over as { policy: keyof typeof DEFAULT_BALANCERS }).policy;
  return DEFAULT_BALANCERS[policy];
}

function isObject(value: unknown): value is PolicyTree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
