/**
 * Test helpers for the transport: a policy with only the fields the transport reads, an
 * endpoint with a real undici pool, and the request and context the stack would pass down.
 */
import type { ServicePolicy, TlsPolicy } from '../../src/config/policy.ts';
import type { Attempt } from '../../src/core/attempt.ts';
import { attemptFor } from '../support/attempt.ts';
import { type Endpoint, originOf } from '../../src/core/endpoint.ts';
import type { MeshRequest, RequestBody } from '../../src/core/service.ts';
import { parseAddress } from '../../src/discovery/address.ts';
import type { Pool } from 'undici';
import { createHttpDispatcher } from '../../src/transport/http/pool.ts';

export function transportPolicy(tls?: TlsPolicy, connectTimeout = 2000): ServicePolicy {
  // NOTE: only `pool` and `tls` are read by the transport; the rest belongs to other layers.
  return { name: 'test', pool: { connections: 4, keepAliveTimeout: 4000, connectTimeout }, tls } as unknown as ServicePolicy;
}

/** An endpoint whose connection is its pool, made at once (the tests close it themselves). */
export type PooledEndpoint = Endpoint & { readonly connection: Pool };

export function endpointFor(address: string, policy: ServicePolicy = transportPolicy()): PooledEndpoint {
  const parsed = parseAddress(address);
  return { address: parsed, origin: originOf(parsed), connection: createHttpDispatcher(parsed, policy) };
}

export function contextFor(endpoint: Endpoint, signal?: AbortSignal): Attempt {
  const attempt = attemptFor({ service: 'test', signal });
  attempt.endpoint = endpoint;
  return attempt;
}

export function meshRequest(
  method: string,
  path: string,
  body: RequestBody = null,
  headers: Record<string, string | string[]> = {},
): MeshRequest {
  return { method, path, headers, body, idempotent: method === 'GET', replayable: true, hashKey: undefined };
}
