/**
 * Consul's L7 config entries for one service, translated into meshlet's route model
 * (route-types.ts) with Consul's semantics (CONSUL.md §3.3–§3.5, ROUTERDOC, DCSTRUCT):
 * - service-router: routes in order, first match terminal, then an implicit catch-all to the
 *   same-name service (compiled chains append `PathPrefix "/"`, virtual-admin-1); no router is
 *   that catch-all alone. An empty `Match` matches everything.
 * - service-splitter, for a destination without `ServiceSubset`: its splits, flattened through
 *   nested splitters (weighted-split.ts says how the remainder is assigned); no splitter is 100%.
 * - service-resolver of every service a target names: subsets, default subset, failover,
 *   timeouts, balancer (consul-resolver.ts); a redirect replaces the target.
 * Entries Consul itself would refuse raise MESH_CONFIG_INVALID with Consul's own messages, at
 * `<kind>/<name>`. What meshlet cannot honour exactly is returned in `unsupported`; a route whose
 * match meshlet cannot evaluate (an RE2-only regex, two conditions on one header) is left out
 * and says so there.
 * Input is each entry as Consul stores it (`/v1/config/<kind>`'s items, consul-entry-lists.ts;
 * meshlet reads entries, not compiled chains:
 * the entries are where Consul's validation and field paths live, and a chain compiled for a
 * datacenter bakes in targets meshlet does not reach).
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from '../config/config-error.ts';
import { MAX_ATTEMPTS } from '../config/limits.ts';
import type { RetryCondition } from '../config/policy.ts';
import { asJson, type Json, str, translateResolver } from './consul-resolver.ts';
import { goDurationToMs } from './go-duration.ts';
import { compileMatch, HTTP_METHODS, type HeaderMatchSpec, type QueryMatchSpec, type RouteMatchSpec } from './route-match.ts';
import type { HeaderModifiers, RouteDefinition, RouteRetry, RouteTarget, RoutingModel, ServiceResolution, TargetRef, UnsupportedItem } from './route-types.ts';
import { flattenSplits, type ScaledTarget, SPLIT_SCALE, scaleWeight, splitSumIssue } from './weighted-split.ts';

export type ConsulEntryKind = 'service-router' | 'service-splitter' | 'service-resolver';

/** Reads an entry as Consul stores it (`/v1/config/<kind>/<name>` would return it); undefined where Consul has none. */
export type ConsulEntryLookup = (kind: ConsulEntryKind, name: string) => unknown;

/** Envoy retry conditions a router may name (DCSTRUCT), as meshlet retry conditions; undefined: not honoured. */
const RETRY_ON: Readonly<Record<string, readonly RetryCondition[] | undefined>> = {
  '5xx': Array.from({ length: 100 }, (_, i) => `${500 + i}` as RetryCondition),
  'gateway-error': ['502', '503', '504'],
  reset: ['reset'],
  'connect-failure': ['connect-error'],
  'retriable-4xx': ['409'],
  'envoy-ratelimited': undefined,
  'refused-stream': undefined,
  cancelled: undefined,
  'deadline-exceeded': undefined,
  internal: undefined,
  'resource-exhausted': undefined,
  unavailable: undefined,
};
const MAX_REDIRECTS = 8;
/** RFC 9110 `token`: what a header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Request headers that frame the message (undici refuses to send most of them as given). */
const FRAMING = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer'];

class Translation {
  readonly errors: ConfigIssue[] = [];
  readonly unsupported: UnsupportedItem[] = [];
  readonly resolutions: Record<string, ServiceResolution> = {};
  readonly #redirects = new Map<string, TargetRef | undefined>();
  readonly #lookup: ConsulEntryLookup;

  constructor(lookup: ConsulEntryLookup) {
    this.#lookup = lookup;
  }

  entry(kind: ConsulEntryKind, name: string): Json | undefined {
    const entry = asJson(this.#lookup(kind, name));
    if (entry !== undefined && entry.Name !== undefined && entry.Name !== name) this.error(`${kind}/${name}`, `the entry is named ${JSON.stringify(entry.Name)}, not ${JSON.stringify(name)}`);
    return entry;
  }

  error(path: string, message: string): void {
    this.errors.push({ path, message });
  }

  notHonoured(path: string, reason: string): void {
    this.unsupported.push({ path, reason });
  }

  /** The service's resolution (read once), and the target after following redirects. */
  resolve(target: RouteTarget, path: string, depth = 0): RouteTarget {
    const service = target.service;
    if (!this.#redirects.has(service)) {
      const translated = translateResolver(service, this.entry('service-resolver', service));
      for (const message of translated.errors) this.error(`service-resolver/${service}`, message);
      this.unsupported.push(...translated.unsupported);
      this.resolutions[service] = translated.resolution;
      this.#redirects.set(service, translated.redirect);
    }
    const redirect = this.#redirects.get(service);
    if (redirect !== undefined && !(redirect.service === service && redirect.subset === target.subset)) {
      if (depth >= MAX_REDIRECTS) {
        this.error(`service-resolver/${service}`, `redirects more than ${MAX_REDIRECTS} times (a redirect loop?)`);
        return target;
      }
      return this.resolve({ ...target, service: redirect.service, subset: redirect.subset }, path, depth + 1);
    }
    const subsets = this.resolutions[service]!.subsets;
    if (target.subset !== undefined && !Object.hasOwn(subsets, target.subset)) {
      this.error(path, `service ${JSON.stringify(service)} has no subset ${JSON.stringify(target.subset)} (service-resolver/${service} defines ${Object.keys(subsets).map((s) => JSON.stringify(s)).join(', ') || 'none'})`);
    }
    return target;
  }

  /** A destination's weighted targets: its splitter's (flattened) or 100% to it. */
  split(target: RouteTarget, path: string, seen: readonly string[] = []): ScaledTarget<RouteTarget>[] {
    const splitter = target.subset === undefined && !seen.includes(target.service) ? this.entry('service-splitter', target.service) : undefined;
    if (splitter === undefined) return [{ target: this.resolve(target, path), scaled: SPLIT_SCALE }];
    const at = `service-splitter/${target.service}`;
    const splits = Array.isArray(splitter.Splits) ? splitter.Splits.map((s) => asJson(s) ?? {}) : [];
    if (splits.length === 0) {
      this.error(at, 'no splits configured');
      return [{ target: this.resolve(target, path), scaled: SPLIT_SCALE }];
    }
    const keys = new Set<string>();
    const outer = splits.map((split, i) => {
      const service = str(split.Service) ?? target.service;
      const subset = str(split.ServiceSubset);
      const key = `service=${JSON.stringify(service)}, subset=${JSON.stringify(subset ?? '')}, namespace=${JSON.stringify(str(split.Namespace) ?? '')}, partition=${JSON.stringify(str(split.Partition) ?? '')}`;
      if (keys.has(key)) this.error(at, `split destination occurs more than once: ${key}`);
      keys.add(key);
      for (const field of ['Namespace', 'Partition'] as const) if (str(split[field]) !== undefined) this.notHonoured(`${at}.Splits[${i}].${field}`, `splits to another ${field.toLowerCase()}, which meshlet does not reach`);
      const headers = { request: modifiers(this, split.RequestHeaders, `${at}.Splits[${i}].RequestHeaders`, true), response: modifiers(this, split.ResponseHeaders, `${at}.Splits[${i}].ResponseHeaders`, false) };
      const child: RouteTarget = { service, subset, requestHeaders: merge(target.requestHeaders, headers.request), responseHeaders: merge(target.responseHeaders, headers.response) };
      return { target: child, scaled: scaleWeight(typeof split.Weight === 'number' ? split.Weight : 0) };
    });
    const sum = splitSumIssue(
      outer.map((o) => o.scaled),
      at,
    );
    if (sum !== undefined) {
      this.errors.push(sum);
      return [{ target: this.resolve(target, path), scaled: SPLIT_SCALE }];
    }
    const inner = (child: RouteTarget): ScaledTarget<RouteTarget>[] | undefined => (child.service === target.service ? undefined : this.split(child, path, [...seen, target.service]));
    return flattenSplits(outer, inner).map((t) => (t.target.service === target.service ? { target: this.resolve(t.target, path), scaled: t.scaled } : t));
  }
}

/** Consul's entries for `service` as meshlet's route model; throws MESH_CONFIG_INVALID for entries Consul would refuse. */
export function translateConsulEntries(service: string, lookup: ConsulEntryLookup): RoutingModel {
  const t = new Translation(lookup);
  const router = t.entry('service-router', service);
  const routes: RouteDefinition[] = [];
  const rawRoutes = router !== undefined && Array.isArray(router.Routes) ? router.Routes.map((r) => asJson(r) ?? {}) : [];
  rawRoutes.forEach((raw, i) => {
    const route = translateRoute(t, service, raw, i);
    if (route !== undefined) routes.push(route);
  });
  const catchAll: RouteTarget = { service, subset: undefined, requestHeaders: undefined, responseHeaders: undefined };
  routes.push({ name: 'default', match: {}, targets: t.split(catchAll, `service-router/${service}.(default route)`), timeout: undefined, perTryTimeout: undefined, retry: undefined, prefixRewrite: undefined, requestHeaders: undefined, responseHeaders: undefined });
  if (t.errors.length > 0) throw configInvalid(t.errors, `Consul's config entries for '${service}'`);
  return { service, routes, resolutions: t.resolutions, unsupported: t.unsupported };
}

function translateRoute(t: Translation, service: string, raw: Json, i: number): RouteDefinition | undefined {
  const at = `service-router/${service}`;
  const field = `${at}.Routes[${i}]`;
  const http = asJson(asJson(raw.Match)?.HTTP) ?? {};
  const fail = (message: string): undefined => {
    t.error(at, `Route[${i}] ${message}`);
    return undefined;
  };
  const exact = str(http.PathExact);
  const prefix = str(http.PathPrefix);
  const regex = str(http.PathRegex);
  if (exact !== undefined && !exact.startsWith('/')) return fail(`PathExact doesn't start with '/': ${JSON.stringify(exact)}`);
  if (prefix !== undefined && !prefix.startsWith('/')) return fail(`PathPrefix doesn't start with '/': ${JSON.stringify(prefix)}`);
  if ([exact, prefix, regex].filter((p) => p !== undefined).length > 1) return fail('should only contain at most one of PathExact, PathPrefix, or PathRegex');
  const headers: Record<string, HeaderMatchSpec> = {};
  const query: Record<string, QueryMatchSpec> = {};
  let evaluable = true;
  const list = (value: unknown): Json[] => (Array.isArray(value) ? value.map((v) => asJson(v) ?? {}) : []);
  for (const [j, header] of list(http.Header).entries()) {
    const name = str(header.Name);
    if (name === undefined) return fail(`Header[${j}] missing required Name field`);
    const kinds = (['Present', 'Exact', 'Prefix', 'Suffix', 'Regex'] as const).filter((k) => (k === 'Present' ? header.Present === true : str(header[k]) !== undefined));
    if (kinds.length !== 1) return fail(`Header[${j}] should only contain one of Present, Exact, Prefix, Suffix, or Regex`);
    const key = name.toLowerCase();
    if (Object.hasOwn(headers, key)) {
      t.notHonoured(`${field}.Match.HTTP.Header[${j}]`, `a second condition on header ${JSON.stringify(name)}: meshlet's match holds one per header; the route is left out`);
      evaluable = false;
    }
    const kind = kinds[0]!;
    const invert = header.Invert === true ? { invert: true } : {};
    headers[key] = kind === 'Present' ? { present: true, ...invert } : { [kind.toLowerCase()]: header[kind] as string, ...invert };
  }
  for (const [j, param] of list(http.QueryParam).entries()) {
    const name = str(param.Name);
    if (name === undefined) return fail(`QueryParam[${j}] missing required Name field`);
    const kinds = (['Present', 'Exact', 'Regex'] as const).filter((k) => (k === 'Present' ? param.Present === true : str(param[k]) !== undefined));
    if (kinds.length !== 1) return fail(`QueryParam[${j}] should only contain one of Present, Exact, or Regex`);
    if (Object.hasOwn(query, name)) {
      t.notHonoured(`${field}.Match.HTTP.QueryParam[${j}]`, `a second condition on query parameter ${JSON.stringify(name)}: meshlet's match holds one per parameter; the route is left out`);
      evaluable = false;
    }
    const kind = kinds[0]!;
    query[name] = kind === 'Present' ? { present: true } : { [kind.toLowerCase()]: param[kind] as string };
  }
  const methods = Array.isArray(http.Methods) ? http.Methods.map((m) => String(m).toUpperCase()) : [];
  for (const [j, method] of methods.entries()) {
    if (!HTTP_METHODS.includes(method)) return fail(`Methods contains an invalid method ${JSON.stringify(method)}`);
    if (methods.indexOf(method) !== j) return fail(`Methods contains ${JSON.stringify(method)} more than once`);
  }
  const destination = asJson(raw.Destination) ?? {};
  const prefixRewrite = str(destination.PrefixRewrite);
  if (prefixRewrite !== undefined && exact === undefined && prefix === undefined) return fail('cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix');
  // Consul accepts it, but the rewritten path would not start with '/': a request no server reads.
  if (prefixRewrite !== undefined && !prefixRewrite.startsWith('/')) t.error(`${field}.Destination.PrefixRewrite`, `${JSON.stringify(prefixRewrite)} must start with '/' (the rewritten path replaces the matched prefix)`);
  else if (prefixRewrite !== undefined && !/^[\x21-\x7e]*$/.test(prefixRewrite)) t.error(`${field}.Destination.PrefixRewrite`, `${JSON.stringify(prefixRewrite)} holds a space, control or non-ASCII character, which a request path cannot carry (percent-encode it)`);
  const retryOn = Array.isArray(destination.RetryOn) ? destination.RetryOn.map(String) : [];
  for (const condition of retryOn) if (!Object.hasOwn(RETRY_ON, condition)) return fail(`contains an invalid retry condition: ${JSON.stringify(condition)}`);

  const match: RouteMatchSpec = {
    ...(exact !== undefined ? { path: exact } : prefix !== undefined ? { pathPrefix: prefix } : regex !== undefined ? { pathRegex: regex } : {}),
    ...(methods.length > 0 ? { methods } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(Object.keys(query).length > 0 ? { query } : {}),
  };
  // Regexes meshlet refuses (RE2-only syntax, catastrophic backtracking) cannot be evaluated here.
  const matchIssues: ConfigIssue[] = [];
  compileMatch(match, `${field}.Match.HTTP`, matchIssues);
  for (const issue of matchIssues) t.notHonoured(issue.path, `${issue.message}; the route is left out`);
  if (matchIssues.length > 0) evaluable = false;

  for (const key of ['Namespace', 'Partition'] as const) if (str(destination[key]) !== undefined) t.notHonoured(`${field}.Destination.${key}`, `routes to another ${key.toLowerCase()}, which meshlet does not reach`);
  if (destination.IdleTimeout !== undefined && destination.IdleTimeout !== '' && destination.IdleTimeout !== null) t.notHonoured(`${field}.Destination.IdleTimeout`, 'a per-route idle timeout is not implemented');
  const timeout = destination.RequestTimeout === undefined || destination.RequestTimeout === '' ? undefined : goDurationToMs(destination.RequestTimeout);
  if (destination.RequestTimeout !== undefined && destination.RequestTimeout !== '' && timeout === undefined) return fail(`RequestTimeout must be a Go duration, got ${JSON.stringify(destination.RequestTimeout)}`);
  const retry = translateRetry(t, destination, retryOn, `${field}.Destination`);
  const target: RouteTarget = { service: str(destination.Service) ?? service, subset: str(destination.ServiceSubset), requestHeaders: undefined, responseHeaders: undefined };
  const targets = t.split(target, `${field}.Destination`);
  const requestHeaders = modifiers(t, destination.RequestHeaders, `${field}.Destination.RequestHeaders`, true);
  const responseHeaders = modifiers(t, destination.ResponseHeaders, `${field}.Destination.ResponseHeaders`, false);
  if (!evaluable) return undefined;
  return {
    name: `route-${i}`,
    match,
    targets,
    timeout: timeout === 0 ? undefined : timeout,
    perTryTimeout: undefined,
    retry,
    prefixRewrite,
    requestHeaders,
    responseHeaders,
  };
}

/** Consul's retry fields as meshlet's retry: NumRetries + 1 attempts (Envoy's default of 1 retry when only conditions are set). */
function translateRetry(t: Translation, destination: Json, retryOn: readonly string[], field: string): RouteRetry | undefined {
  const numRetries = typeof destination.NumRetries === 'number' ? destination.NumRetries : 0;
  const codes = Array.isArray(destination.RetryOnStatusCodes) ? destination.RetryOnStatusCodes : [];
  const on = new Set<RetryCondition>();
  if (destination.RetryOnConnectFailure === true) on.add('connect-error');
  codes.forEach((code, j) => {
    if (Number.isInteger(code) && (code as number) >= 100 && (code as number) <= 599) on.add(`${code as number}` as RetryCondition);
    else t.error(`${field}.RetryOnStatusCodes[${j}]`, `${JSON.stringify(code)} is not an HTTP status code (an integer from 100 to 599)`);
  });
  for (const condition of retryOn) {
    const mapped = RETRY_ON[condition];
    if (mapped === undefined) t.notHonoured(`${field}.RetryOn`, `retry condition ${JSON.stringify(condition)} has no HTTP/1.1 equivalent in meshlet; it is not applied`);
    else for (const c of mapped) on.add(c);
  }
  if (numRetries === 0 && on.size === 0) return undefined;
  let attempts = (numRetries === 0 ? 1 : numRetries) + 1;
  if (attempts > MAX_ATTEMPTS) {
    t.notHonoured(`${field}.NumRetries`, `${numRetries} retries exceed meshlet's limit of ${MAX_ATTEMPTS} attempts a call; ${MAX_ATTEMPTS} are made`);
    attempts = MAX_ATTEMPTS;
  }
  return { attempts, on: [...on] };
}

/**
 * A header change, refused at `path` when it would make a request undici (or the server)
 * refuses, instead of failing every call: names must be RFC 9110 tokens, values free of CR, LF
 * and NUL, and a request change may not touch the headers that frame the message (Envoy
 * refuses `host` and pseudo-headers too).
 */
function modifiers(t: Translation, value: unknown, path: string, request: boolean): HeaderModifiers | undefined {
  const raw = asJson(value);
  if (raw === undefined) return undefined;
  const checkName = (name: string, at: string): void => {
    if (!TOKEN.test(name)) t.error(at, `${JSON.stringify(name)} is not a valid header name (an RFC 9110 token: letters, digits and !#$%&'*+-.^_\`|~)`);
    else if (request && FRAMING.includes(name.toLowerCase())) t.error(at, `${JSON.stringify(name)} frames the request and cannot be changed by a route`);
  };
  const map = (v: unknown, field: string): Record<string, string> => {
    const entries = Object.entries(asJson(v) ?? {}).map(([k, x]) => {
      const text = String(x);
      checkName(k, `${path}.${field}`);
      if (/[\r\n\0]/.test(text)) t.error(`${path}.${field}.${k}`, 'a header value may not contain CR, LF or NUL');
      return [k.toLowerCase(), text] as const;
    });
    return Object.fromEntries(entries);
  };
  const add = map(raw.Add, 'Add');
  const set = map(raw.Set, 'Set');
  const remove = Array.isArray(raw.Remove) ? raw.Remove.map((r) => String(r)) : [];
  for (const [i, name] of remove.entries()) checkName(name, `${path}.Remove[${i}]`);
  const result = { add, set, remove: remove.map((r) => r.toLowerCase()) };
  return Object.keys(result.add).length + Object.keys(result.set).length + remove.length === 0 ? undefined : result;
}

/** A nested split's header changes on top of its parent's (Consul's MergeParent): the child's win. */
function merge(parent: HeaderModifiers | undefined, child: HeaderModifiers | undefined): HeaderModifiers | undefined {
  if (parent === undefined || child === undefined) return child ?? parent;
  return { add: { ...parent.add, ...child.add }, set: { ...parent.set, ...child.set }, remove: [...new Set([...parent.remove, ...child.remove])] };
}
