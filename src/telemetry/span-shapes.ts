/**
 * What a stack's spans repeat from call to call, built once instead of per call: the logical
 * span's name and start attributes per method (call-record.ts), and each attempt's `url.full`
 * per endpoint origin and path (attempt-telemetry.ts). A traced call otherwise builds the same
 * name string, attribute object and redacted URL every time. Bounded: methods by the semconv
 * set (`_OTHER` for the rest), origins by the service's endpoints, one remembered path each.
 */
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

/** Origins remembered before the memo starts over (endpoints come and go with discovery). */
const MAX_ORIGINS = 256;

/** `url.full` per endpoint origin, remembering the last path asked for each. */
export class UrlShapes {
  readonly #byOrigin = new Map<string, { path: string; url: string }>();

  url(origin: string, path: string): string {
    const last = this.#byOrigin.get(origin);
    if (last !== undefined && last.path === path) return last.url;
    const url = redactedUrl(origin, path);
    if (last !== undefined) {
      last.path = path;
      last.url = url;
    } else {
      if (this.#byOrigin.size >= MAX_ORIGINS) this.#byOrigin.clear();
      this.#byOrigin.set(origin, { path, url });
    }
    return url;
  }
}
