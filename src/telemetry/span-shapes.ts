/**
 * What a stack's spans repeat from call to call, built once instead of per call: the logical
 * span's name and start attributes per method (call-record.ts), and each attempt's `url.full`
 * per endpoint and path (attempt-telemetry.ts). A traced call otherwise builds the same
 * name string, attribute object and redacted URL every time. Bounded: methods by the semconv
 * set (`_OTHER` for the rest), URLs by the live endpoint addresses, one remembered path each.
 */
import type { Endpoint, EndpointAddress } from '../core/endpoint.ts';
import { redactedUrl } from './redact-url.ts';
import { semconvMethod } from './otel-tracing.ts';

export interface CallSpanShape {
  readonly name: string;
  /** Frozen: the span copies what it keeps. */
  readonly attributes: Readonly<Record<string, string>>;
}

export class CallSpanShapes {
  readonly service: string;
  readonly #route: string | undefined;
  readonly #byMethod = new Map<string, CallSpanShape>();

  constructor(service: string, route: string | undefined) {
    this.service = service;
    this.#route = route;
  }

  /** The logical span's shape for a call with this (raw) method. */
  of(method: string): CallSpanShape {
    return this.#byMethod.get(method) ?? this.#make(method);
  }

  #make(method: string): CallSpanShape {
    const semconv = semconvMethod(method);
    const attributes: Record<string, string> = { 'meshlet.service': this.service, 'http.request.method': semconv };
    if (this.#route !== undefined) attributes['meshlet.route'] = this.#route;
    // A method outside the known set is named HTTP, as on the attempt spans: span names stay bounded.
    const shape = { name: `${semconv === '_OTHER' ? 'HTTP' : semconv} ${this.service}`, attributes: Object.freeze(attributes) };
    // Raw methods outside the set are not remembered (they are the caller's, unbounded).
    if (semconv !== '_OTHER') this.#byMethod.set(method, shape);
    return shape;
  }
}

/**
 * `url.full` per endpoint address, remembering the last path asked for each. Keyed by the
 * address object, not its origin string: an endpoint builds its origin when asked, so a
 * lookup by origin would build and hash a new string per attempt; a discovery update that
 * changes an address replaces the object, and a memo entry goes with the object it is for.
 */
export class UrlShapes {
  readonly #byAddress = new WeakMap<EndpointAddress, { path: string; url: string }>();

  url(endpoint: Endpoint, path: string): string {
    const address = endpoint.address;
    const last = this.#byAddress.get(address);
    if (last !== undefined && last.path === path) return last.url;
    const url = redactedUrl(endpoint.origin, path);
    if (last !== undefined) {
      last.path = path;
      last.url = url;
    } else this.#byAddress.set(address, { path, url });
    return url;
  }
}
