/**
 * The schema of a service's `subsets` and `routes` (DESIGN §3, issue 11). What can be checked
 * within one route is checked here, so `meshlet validate` and a control store's document are
 * refused for the same reasons: unknown keys, a weight out of range, weights that do not sum to
 * 100 (Consul's arithmetic, routing/weighted-split.ts), a match the route matcher cannot compile
 * (a bad regex, two path kinds, an unknown method: routing/route-match.ts's own rules, run
 * here rather than restated). What needs the merged config (a target naming a subset or service
 * that does not exist) is checked after resolution, in route-checks.ts.
 */
import { z } from 'zod';
import type { ConfigIssue } from '../core/errors.ts';
import { compileMatch } from '../routing/route-match.ts';
import { scaleWeight, splitSumIssue } from '../routing/weighted-split.ts';
import { bool, duration, integer, list, number, strictObject, text } from './fields.ts';
import { MAX_ATTEMPTS } from './limits.ts';
import { retryCondition } from './retry-condition.ts';

/** Route and subset names label telemetry and state(): short, and never taken from a request. */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const LABEL_TEXT = '1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Enough for any real route table; the matcher walks them in order on every call. */
export const MAX_ROUTES = 100;
const MAX_TARGETS = 16;

const subset = strictObject({
  tags: list(text('a tag (non-empty string)'), 64).optional(),
  meta: z.record(text('a meta key'), text('a meta value (string)')).optional(),
}).superRefine((value, context) => {
  if ((value.tags ?? []).length === 0 && Object.keys(value.meta ?? {}).length === 0) {
    context.addIssue({ code: 'custom', message: 'a subset needs tags or meta to select endpoints by (a subset of everything is the service itself)' });
  }
});

export const subsets = z.record(text(`a subset name (${LABEL_TEXT})`, LABEL), subset, {
  error: (issue) => `expected an object of subsets like {"v2": {"tags": ["v2"]}}, got ${typeof issue.input}`,
});

/** A string is an exact match, as in route-match.ts. */
const asExact = (value: unknown): unknown => (typeof value === 'string' ? { exact: value } : value);

const headerMatch = z.preprocess(
  asExact,
  strictObject({
    exact: text('a header value').optional(),
    prefix: text('a header value prefix').optional(),
    suffix: text('a header value suffix').optional(),
    present: bool.optional(),
    regex: text('a regular expression').optional(),
    invert: bool.optional(),
  }),
);

const queryMatch = z.preprocess(
  asExact,
  strictObject({
    exact: text('a query parameter value').optional(),
    present: bool.optional(),
    regex: text('a regular expression').optional(),
  }),
);

const match = strictObject({
  path: text('a path starting with "/"').optional(),
  pathPrefix: text('a path prefix starting with "/"').optional(),
  pathRegex: text('a regular expression').optional(),
  methods: list(text('an HTTP method'), 16).optional(),
  headers: z.record(text('a header name', HEADER_NAME), headerMatch).optional(),
  query: z.record(text('a query parameter name'), queryMatch).optional(),
}).superRefine((value, context) => {
  const issues: ConfigIssue[] = [];
  compileMatch(value, '@', issues);
  for (const issue of issues) context.addIssue({ code: 'custom', path: [dotted(issue.path.slice(2))], message: issue.message });
});

/** A subset of this service (`subset`), another service (`service`), or a subset of another service (both). */
const targetShape = {
  service: text('a service name').optional(),
  subset: text(`a subset name (${LABEL_TEXT})`, LABEL).optional(),
};
const target = strictObject({ ...targetShape, weight: number(0, 100).optional() });
const failoverTarget = strictObject(targetShape);

/** A route's own retries: how many tries and on what; backoff and the budget stay the service's. */
const routeRetry = strictObject({
  attempts: integer(1, MAX_ATTEMPTS).optional(),
  on: list(retryCondition, 64).optional(),
});

const route = strictObject({
  name: text(`a route name (${LABEL_TEXT})`, LABEL).optional(),
  match: match.optional(),
  to: list(target, MAX_TARGETS).min(1, { error: 'give at least one target, e.g. [{"subset": "v1", "weight": 100}]' }),
  timeout: duration(true).optional(),
  perTryTimeout: duration(true).optional(),
  retry: routeRetry.optional(),
  failover: list(failoverTarget, MAX_TARGETS).optional(),
}).superRefine((value, context) => {
  const weights = value.to.map((t) => t.weight);
  if (weights.length > 1) {
    weights.forEach((weight, i) => {
      if (weight === undefined) context.addIssue({ code: 'custom', path: ['to', i, 'weight'], message: 'required when a route has several targets: a percentage, all of them summing to 100' });
    });
  }
  if (weights.every((w) => w !== undefined) && weights.length > 0) {
    const sum = splitSumIssue(weights.map(scaleWeight), '');
    if (sum !== undefined) context.addIssue({ code: 'custom', path: ['to'], message: sum.message });
  }
});

export const routes = list(route, MAX_ROUTES).superRefine((items, context) => {
  const seen = new Map<string, number>();
  items.forEach((item, index) => {
    if (item.name === undefined) return;
    const first = seen.get(item.name);
    if (first === undefined) seen.set(item.name, index);
    else context.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate route name "${item.name}" (also at index ${first})` });
  });
});

export type SubsetsConfig = z.output<typeof subsets>;
export type RouteConfig = z.output<typeof route>;

/** route-match.ts writes indexes as `[i]`; config paths write them as `.i` (plain-data.ts joinPath). */
function dotted(path: string): string {
  return path.replace(/\[(\d+)\]/g, '.$1');
}
