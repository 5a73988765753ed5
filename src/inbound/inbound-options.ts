/**
 * The options every adapter takes (`meshlet(mesh, options)`, the Fastify plugin's, Nest's
 * `inbound`), checked once when the adapter is made, so a mistake fails at start-up with a
 * MESH_BAD_REQUEST naming the option, not on the first request.
 */
import type { AdminHandler } from '../admin/admin-handler.ts';
import { durationOrThrow } from '../config/duration.ts';
import { invalidArgument } from '../core/mesh-errors.ts';
import type { Mesh } from '../mesh/mesh.ts';
import { describe } from '../mesh/call-argument-error.ts';
import type { InboundLimits } from './admission.ts';

export interface InboundOptions {
  /** The time a request gets when its caller sent no deadline (`'5s'`, ms); default: none. */
  defaultTimeout?: number | string;
  /** The most time any request gets, whatever its caller sent; default: no ceiling. */
  maxTimeout?: number | string;
  /** Inbound admission: a rate (429) and/or a concurrency limit (503), both with Retry-After. */
  limits?: InboundLimits;
  /** Mounts `mesh.adminHandler({ token })` at `path` (e.g. `'/_meshlet'`), outside deadlines and limits. */
  admin?: { path: string; token?: string };
  /** How long shutdown waits for the requests being served before it closes the mesh; default 10 s. */
  drainTimeout?: number | string;
}


export interface InboundPolicy {
  readonly defaultTimeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly limits: InboundLimits | undefined;
  readonly admin: { readonly path: string; readonly handler: AdminHandler } | undefined;
  readonly drainTimeoutMs: number;
}

export function inboundPolicy(mesh: Mesh, options: InboundOptions): InboundPolicy {
  if (typeof options !== 'object' || options === null) throw bad(`options must be an object, got ${describe(options)}`);
  const { defaultTimeout, maxTimeout, limits, admin, drainTimeout } = options;
  return {
    defaultTimeoutMs: defaultTimeout === undefined ? Number.POSITIVE_INFINITY : durationOrThrow(defaultTimeout, 'meshlet adapter option defaultTimeout'),
    maxTimeoutMs: maxTimeout === undefined ? Number.POSITIVE_INFINITY : durationOrThrow(maxTimeout, 'meshlet adapter option maxTimeout'),
    limits: limits === undefined ? undefined : checkedLimits(limits),
    admin: admin === undefined ? undefined : mountedAdmin(mesh, admin),
    drainTimeoutMs: drainTimeout === undefined ? 10_000 : durationOrThrow(drainTimeout, 'meshlet adapter option drainTimeout'),
  };
}

function checkedLimits(limits: InboundLimits): InboundLimits {
  const { rate, concurrency } = limits;
  if (rate !== undefined && !(positive(rate.perSecond) && (rate.burst === undefined || positive(rate.burst)))) {
    throw bad(`limits.rate must be { perSecond: n > 0, burst?: n > 0 }, got ${describe(rate)}`);
  }
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency > 0)) {
    throw bad(`limits.concurrency must be a whole number > 0, got ${describe(concurrency)}`);
  }
  return limits;
}

function mountedAdmin(mesh: Mesh, admin: { path: string; token?: string }): InboundPolicy['admin'] {
  if (typeof admin.path !== 'string' || !/^\/[^?#]*[^/?#]$/.test(admin.path)) {
    throw bad(`admin.path must start with '/' and not end with one, like '/_meshlet', got ${describe(admin.path)}`);
  }
  return { path: admin.path, handler: mesh.adminHandler(admin.token === undefined ? {} : { token: admin.token }) };
}

function positive(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function bad(message: string) {
  return invalidArgument('meshlet adapter', message);
}
