/**
 * The attribute sets of one stack's per-call and per-attempt metrics, built once per
 * (status, outcome) and reused, and the logical-call counts behind `meshlet.client.calls`.
 *
 * NOTE: why. The OpenTelemetry SDK hashes a measurement's attributes on every `add`/`record`
 * (sorted keys, JSON) and a synchronous counter costs about as much as a histogram record,
 * ~1 µs a call with the SDK's metrics on. The call counter counts what meshlet already knows,
 * so it is an observable counter read at collection time from the counts kept here (one
 * increment per call); the duration histograms stay synchronous, on attribute objects built
 * once. Counts live per set of instruments (a new meter provider starts from zero) and per
 * attribute set, so two stacks of one service name (a rebuilt stack, two meshes) add up in
 * one series as the synchronous counter did.
 */
import type { Attributes } from '@opentelemetry/api';

/** One attribute set of `meshlet.client.calls` and `meshlet.client.call.duration`, with its count. */
export interface CallSeries {
  readonly attributes: Attributes;
  count: number;
}

/** Every call series of one set of instruments, by attribute key: what the observable counter reports. */
export type CallCounts = Map<string, CallSeries>;

export class MetricSeries {
  readonly service: string;
  readonly #route: string | undefined;
  #counts: CallCounts | undefined = undefined;
  /** Call series by status class (index: hundreds digit, 0 for no response, 6 for other) then outcome. */
  #calls: Map<string, CallSeries>[] = [];
  /** Attempt attribute sets by status code (0 for none), then method, then error.type ('' for none). */
  readonly #attempts = new Map<number, Map<string, Map<string, Attributes>>>();

  constructor(service: string, route: string | undefined) {
    this.service = service;
    this.#route = route;
  }

  /** The series of a call that ended with `statusCode` (undefined: no response) and `outcome`, counted in `counts`. */
  call(counts: CallCounts, statusCode: number | undefined, outcome: string): CallSeries {
    if (counts !== this.#counts) {
      // New instruments (another meter provider): the cached series belong to the old ones.
      this.#counts = counts;
      this.#calls = [];
    }
    const index = statusCode === undefined ? 0 : statusCode >= 100 && statusCode < 600 ? Math.floor(statusCode / 100) : 6;
    this.#calls[index] ??= new Map();
    return this.#calls[index].get(outcome) ?? this.#newCall(counts, this.#calls[index], statusCode, outcome);
  }

  #newCall(counts: CallCounts, byOutcome: Map<string, CallSeries>, statusCode: number | undefined, outcome: string): CallSeries {
    const attributes: Record<string, string> = { 'meshlet.service': this.service, 'meshlet.status_class': statusClass(statusCode), 'meshlet.outcome': outcome };
    if (this.#route !== undefined) attributes['meshlet.route'] = this.#route;
    const key = JSON.stringify([this.service, this.#route ?? null, attributes['meshlet.status_class'], outcome]);
    const series = cached(counts, key, () => ({ attributes: Object.freeze(attributes), count: 0 }));
    byOutcome.set(outcome, series);
    return series;
  }

  /** `http.client.request.duration`'s attributes for an attempt (method already the semconv's). */
  attempt(method: string, statusCode: number | undefined, errorType: string | undefined): Attributes {
    return this.#attempts.get(statusCode ?? 0)?.get(method)?.get(errorType ?? '') ?? this.#newAttempt(method, statusCode, errorType);
  }

  #newAttempt(method: string, statusCode: number | undefined, errorType: string | undefined): Attributes {
    const attributes: Record<string, string | number> = { 'http.request.method': method, 'server.address': this.service };
    if (statusCode !== undefined) attributes['http.response.status_code'] = statusCode;
    if (errorType !== undefined) attributes['error.type'] = errorType;
    if (this.#route !== undefined) attributes['meshlet.route'] = this.#route;
    const byMethod = cached(this.#attempts, statusCode ?? 0, () => new Map<string, Map<string, Attributes>>());
    cached(byMethod, method, () => new Map<string, Attributes>()).set(errorType ?? '', Object.freeze(attributes));
    return attributes;
  }
}

/** `map`'s value for `key`, made by `make` the first time (only on a cache miss: the hit paths above need no closure). */
function cached<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** A status code's class (`2xx`) or `error` when the call got no response: a bounded label. */
export function statusClass(statusCode: number | undefined): string {
  if (statusCode === undefined) return 'error';
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}
