/**
 * The route matcher: meshlet's route `match` specs (DESIGN §3), compiled once per config into
 * flat arrays (path and method, checked inline) and small closures (headers, query, regex),
 * consulted on every call. First match wins. A match allocates
 * nothing: the path is compared in place (the `?` found once per call), header values are read
 * off the request's headers object, query parameters are scanned in the path string only when a
 * route asks about one, and every regex runs sticky and in place (safe-regex.ts). The only
 * allocations left are for inputs that need them: a header sent several times (matched on its
 * values joined by `,`, as Envoy does) and a percent-escaped query value (decoded to compare).
 *
 * Semantics follow Envoy's route match, which Consul's router entries compile to: `path` is
 * exact and `pathPrefix` a plain string prefix of the path without its query, both
 * case-sensitive; `pathRegex` and every `regex` must match the whole value; header names are
 * case-insensitive, values case-sensitive; `invert` flips a header condition's result, so an
 * inverted condition on an absent header holds. All conditions of one route must hold.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from '../config/config-error.ts';
import { queryValueEnd, queryValueEquals, queryValueStart, escapedValue } from './query-scan.ts';
import { compileSafeRegex, testFrom } from './safe-regex.ts';

export type HeaderMatchSpec =
  | string
  | {
      readonly exact?: string;
      readonly prefix?: string;
      readonly suffix?: string;
      readonly present?: boolean;
      readonly regex?: string;
      readonly invert?: boolean;
    };

export type QueryMatchSpec = string | { readonly exact?: string; readonly present?: boolean; readonly regex?: string };

export interface RouteMatchSpec {
  /** Exact path (without the query). At most one of path, pathPrefix, pathRegex. */
  readonly path?: string;
  readonly pathPrefix?: string;
  readonly pathRegex?: string;
  /** Upper-cased on compile; unset: every method. */
  readonly methods?: readonly string[];
  /** A string is an exact match. */
  readonly headers?: Readonly<Record<string, HeaderMatchSpec>>;
  /** A string is an exact match. */
  readonly query?: Readonly<Record<string, QueryMatchSpec>>;
}

/** What a match reads from a call (MeshRequest has these). */
export interface MatchableRequest {
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly path: string;
  /** Names lower-cased. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

/** `pathEnd`: index of the `?` (or the path's length), found once per call. */
type Condition = (request: MatchableRequest, pathEnd: number) => boolean;

/** The methods Consul accepts in a router's `Methods` (DCSTRUCT); meshlet accepts the same. */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE'];
const PATH_DELIMITERS = '?#';
const QUERY_DELIMITERS = '&#';

/**
 * One route compiled. The method and the exact/prefix path are checked inline in the match
 * loop (no call), because they reject most routes: with 20 routes, the 19 that fail cost a
 * compare each. Headers, query and regex are closures, run only when those held.
 */
export interface CompiledMatch {
  readonly path: { readonly kind: 'any' } | { readonly kind: 'exact' | 'prefix'; readonly value: string };
  /** Bit i set: HTTP_METHODS[i] matches; 0: every method. */
  readonly methods: number;
  readonly conditions: readonly Condition[];
}

const PATH_ANY = 0;
const PATH_EXACT = 1;
const PATH_PREFIX = 2;

export class RouteMatcher<T> {
  readonly #pathKinds: Uint8Array;
  readonly #pathValues: readonly string[];
  readonly #methods: Uint16Array;
  readonly #conditions: (readonly Condition[])[];
  readonly #values: readonly T[];

  /** Throws MESH_CONFIG_INVALID listing every bad spec, each at `<path>[i].match.<field>`. */
  constructor(routes: readonly { readonly match: RouteMatchSpec; readonly value: T }[], path: string) {
    const issues: ConfigIssue[] = [];
    const compiled = routes.map((route, i) => compileMatch(route.match, `${path}[${i}].match`, issues));
    if (issues.length > 0) throw configInvalid(issues, 'The routes');
    this.#pathKinds = Uint8Array.from(compiled, (c) => (c.path.kind === 'exact' ? PATH_EXACT : c.path.kind === 'prefix' ? PATH_PREFIX : PATH_ANY));
    this.#pathValues = compiled.map((c) => (c.path.kind === 'any' ? '' : c.path.value));
    this.#methods = Uint16Array.from(compiled, (c) => c.methods);
    this.#conditions = compiled.map((c) => c.conditions);
    this.#values = routes.map((route) => route.value);
  }

  get size(): number {
    return this.#values.length;
  }

  /** The first route whose conditions all hold, or undefined. Allocates nothing. */
  match(request: MatchableRequest): T | undefined {
    const index = this.matchIndex(request);
    return index === -1 ? undefined : this.#values[index];
  }

  matchIndex(request: MatchableRequest): number {
    const path = request.path;
    let pathEnd = path.indexOf('?');
    if (pathEnd === -1) pathEnd = path.length;
    const methodBit = 1 << HTTP_METHODS.indexOf(request.method); // an unknown method: 1 << -1, matched by no list
    const kinds = this.#pathKinds;
    const values = this.#pathValues;
    const methods = this.#methods;
    const all = this.#conditions;
    routes: for (let r = 0; r < kinds.length; r++) {
      const kind = kinds[r]!;
      if (kind !== PATH_ANY) {
        const value = values[r]!;
        if (kind === PATH_EXACT ? pathEnd !== value.length : pathEnd < value.length) continue;
        if (!path.startsWith(value)) continue;
      }
      const mask = methods[r]!;
      if (mask !== 0 && (mask & methodBit) === 0) continue;
      const conditions = all[r]!;
      for (let c = 0; c < conditions.length; c++) if (!conditions[c]!(request, pathEnd)) continue routes;
      return r;
    }
    return -1;
  }
}

/** One route's match; problems go to `issues`, at `path.<field>`. */
export function compileMatch(spec: RouteMatchSpec, path: string, issues: ConfigIssue[]): CompiledMatch {
  const conditions: Condition[] = [];
  let methodMask = 0;
  let pathMatch: CompiledMatch['path'] = { kind: 'any' };
  const issue = (at: string, message: string): void => {
    issues.push({ path: `${path}.${at}`, message });
  };
  if (spec.methods !== undefined) {
    const methods = spec.methods.map((m) => m.toUpperCase());
    methods.forEach((method, i) => {
      if (!HTTP_METHODS.includes(method)) issue(`methods[${i}]`, `"${method}" is not an HTTP method (expected one of ${HTTP_METHODS.join(', ')})`);
      else if (methods.indexOf(method) !== i) issue(`methods[${i}]`, `"${method}" is listed more than once`);
      else methodMask |= 1 << HTTP_METHODS.indexOf(method);
    });
  }
  const pathKinds = (['path', 'pathPrefix', 'pathRegex'] as const).filter((k) => spec[k] !== undefined);
  if (pathKinds.length > 1) issue(pathKinds[1]!, `give at most one of path, pathPrefix or pathRegex (also has ${pathKinds[0]})`);
  if (spec.path !== undefined) {
    const exact = spec.path;
    if (!exact.startsWith('/')) issue('path', `must start with "/", got ${JSON.stringify(exact)}`);
    pathMatch = { kind: 'exact', value: exact };
  } else if (spec.pathPrefix !== undefined) {
    const prefix = spec.pathPrefix;
    if (!prefix.startsWith('/')) issue('pathPrefix', `must start with "/", got ${JSON.stringify(prefix)}`);
    pathMatch = { kind: 'prefix', value: prefix };
  }
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    const condition = compileHeader(name.toLowerCase(), header, `headers.${name}`, issue);
    if (condition !== undefined) conditions.push(condition);
  }
  for (const [name, query] of Object.entries(spec.query ?? {})) {
    const condition = compileQuery(name, query, `query.${name}`, issue);
    if (condition !== undefined) conditions.push(condition);
  }
  // Last: a regex is the dearest test, so it runs only when everything cheaper held.
  if (spec.pathRegex !== undefined) {
    const compiled = compileSafeRegex(spec.pathRegex, PATH_DELIMITERS);
    if (!compiled.ok) issue('pathRegex', `is not an accepted regex: ${compiled.message}`);
    else conditions.push((request) => testFrom(compiled.regex, request.path, 0));
  }
  return { path: pathMatch, methods: methodMask, conditions };
}

type Issue = (at: string, message: string) => void;

function compileHeader(name: string, spec: HeaderMatchSpec, at: string, issue: Issue): Condition | undefined {
  const options = typeof spec === 'string' ? { exact: spec } : spec;
  const kinds = (['exact', 'prefix', 'suffix', 'present', 'regex'] as const).filter((k) => options[k] !== undefined);
  if (kinds.length !== 1) {
    issue(at, `give exactly one of exact, prefix, suffix, present or regex${kinds.length > 1 ? ` (has ${kinds.join(', ')})` : ''}`);
    return undefined;
  }
  if (options.present === false) {
    issue(`${at}.present`, 'present must be true; for a header that must be absent write { present: true, invert: true }');
    return undefined;
  }
  const test = headerTest(options, at, issue);
  if (test === undefined) return undefined;
  const invert = options.invert === true;
  return (request) => {
    const raw = request.headers[name];
    // NOTE: not `raw.join` on anything not a string: a name on Object's prototype (constructor) reads a function when absent.
    const value = typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join(',') : undefined;
    return (value !== undefined && test(value)) !== invert;
  };
}

function headerTest(options: Exclude<HeaderMatchSpec, string>, at: string, issue: Issue): ((value: string) => boolean) | undefined {
  const { exact, prefix, suffix, regex } = options;
  if (exact !== undefined) return (value) => value === exact;
  if (prefix !== undefined) return (value) => value.startsWith(prefix);
  if (suffix !== undefined) return (value) => value.endsWith(suffix);
  if (regex !== undefined) {
    const compiled = compileSafeRegex(regex);
    if (!compiled.ok) {
      issue(`${at}.regex`, `is not an accepted regex: ${compiled.message}`);
      return undefined;
    }
    return (value) => testFrom(compiled.regex, value, 0);
  }
  return () => true; // present
}

function compileQuery(name: string, spec: QueryMatchSpec, at: string, issue: Issue): Condition | undefined {
  const options = typeof spec === 'string' ? { exact: spec } : spec;
  const kinds = (['exact', 'present', 'regex'] as const).filter((k) => options[k] !== undefined);
  if (kinds.length !== 1 || options.present === false) {
    issue(at, `give exactly one of exact, present: true or regex${kinds.length > 1 ? ` (has ${kinds.join(', ')})` : ''}`);
    return undefined;
  }
  const { exact, regex } = options;
  if (exact !== undefined) {
    return (request, pathEnd) => {
      const start = pathEnd === request.path.length ? -1 : queryValueStart(request.path, pathEnd, name);
      return start !== -1 && queryValueEquals(request.path, start, queryValueEnd(request.path, start), exact);
    };
  }
  if (regex !== undefined) {
    const inPlace = compileSafeRegex(regex, QUERY_DELIMITERS);
    const decoded = compileSafeRegex(regex);
    if (!inPlace.ok || !decoded.ok) {
      issue(`${at}.regex`, `is not an accepted regex: ${inPlace.ok ? (decoded as { message: string }).message : inPlace.message}`);
      return undefined;
    }
    return (request, pathEnd) => {
      const path = request.path;
      const start = pathEnd === path.length ? -1 : queryValueStart(path, pathEnd, name);
      if (start === -1) return false;
      const unescaped = escapedValue(path, start, queryValueEnd(path, start));
      return unescaped === undefined ? testFrom(inPlace.regex, path, start) : testFrom(decoded.regex, unescaped, 0);
    };
  }
  return (request, pathEnd) => pathEnd !== request.path.length && queryValueStart(request.path, pathEnd, name) !== -1;
}
