/**
 * What the Consul discovery tests share: real loopback backends registered as Consul
 * instances, a mesh discovering them from the emulator (or a real agent), and waits that poll
 * `mesh.state()` with a bound instead of sleeping a guessed time.
 */
import type { ServerResponse } from 'node:http';
import type { Mesh } from '../../src/index.ts';
import type { MeshConfigInput } from '../../src/config/schema.ts';
import type { MeshResponse } from '../../src/core/service.ts';
import type { ServiceRegistration } from '../../src/consul/types.ts';
import { type Backend, startBackend } from '../support/http-backend.ts';

export { eventually } from '../support/waits.ts';

/** A config's services, as the tests write them. */
export type Services = NonNullable<MeshConfigInput['services']>;

export interface EndpointState {
  readonly id: string;
  readonly weight: number;
  readonly inFlight: number;
  readonly requests: number;
}

export interface ConsulDiscoveryState {
  readonly status: 'starting' | 'ok' | 'unavailable';
  readonly lastError: string | null;
  readonly endpointsFrom: 'none' | 'consul' | 'cache';
  readonly cachedAgeMs: number | null;
  readonly skipped: readonly { id: string; reason: string }[];
}

export interface ServiceState {
  readonly endpoints: readonly EndpointState[];
  readonly discoveryError: string | null;
  readonly discovery: ConsulDiscoveryState;
}

export function serviceState(mesh: Mesh, name: string): ServiceState {
  const services = mesh.state().services as Record<string, ServiceState>;
  const state = services[name];
  if (state === undefined) throw new Error(`no service ${name} in mesh.state()`);
  return state;
}

export function endpointIds(mesh: Mesh, name: string): string[] {
  return serviceState(mesh, name)
    .endpoints.map((e) => e.id)
    .sort();
}

/** Which backend answered: every backend here answers `{ port }`. */
export async function portOf(call: Promise<MeshResponse>): Promise<number> {
  const response = await call;
  const body = (await response.body.json()) as { port: number };
  return body.port;
}

/** A backend that holds requests to `/hold` until `release()`, and answers the rest at once. */
export async function startHoldingBackend(): Promise<Backend & { held: number; release(): void }> {
  const waiting: ServerResponse[] = [];
  let backend: Backend;
  const answer = (res: ServerResponse): void => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ port: backend.port }));
  };
  backend = await startBackend((req, res) => {
    if (req.url === '/hold') waiting.push(res);
    else answer(res);
  });
  // NOTE: defineProperty, not Object.assign, which would copy the getter's value once.
  return Object.defineProperties(backend as Backend & { held: number; release(): void }, {
    held: { get: () => waiting.length },
    release: { value: () => waiting.splice(0).forEach(answer) },
  });
}

/** A registration for a loopback backend, with a passing TTL check `service:<id>` unless `check` says otherwise. */
export function registrationOf(backend: Backend, name: string, id: string, extra: Partial<ServiceRegistration> = {}): Record<string, unknown> {
  return {
    Name: name,
    ID: id,
    Address: '127.0.0.1',
    Port: backend.port,
    Check: { CheckID: `service:${id}`, TTL: '10m', Status: 'passing' },
    ...extra,
  };
}
