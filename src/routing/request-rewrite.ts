/**
 * What a route changes about a call on its way out and back (a Consul router destination's
 * PrefixRewrite, RequestHeaders and ResponseHeaders, and a split's own header changes), built
 * once per route target when the config is applied. Only a target that changes something has
 * a rewrite: for every other call the routing step passes the caller's request and response
 * through as they are, so the cost is paid only by the routes that ask for it (a new request
 * object per call, and one more promise reaction for a response change).
 *
 * Semantics (Envoy's, which Consul's entries compile to): PrefixRewrite replaces the part of
 * the path the route matched (its PathPrefix, or the whole PathExact), query kept; header
 * changes apply remove, then set (replace), then add (append), the route's first and then the
 * split's; header names are case-insensitive (meshlet's request headers are lower-cased).
 */
import { isIdempotentMethod, type MeshRequest, type MeshResponse } from '../core/service.ts';
import type { HeaderModifiers, RouteDefinition, RouteTarget } from './route-types.ts';

export type RequestRewrite = (request: MeshRequest) => MeshRequest;
export type ResponseRewrite = (response: MeshResponse) => MeshResponse;

/** The target's request change, or undefined when it changes nothing. */
export function requestRewriteFor(route: RouteDefinition, target: RouteTarget): RequestRewrite | undefined {
  const modifiers = [route.requestHeaders, target.requestHeaders].filter((m): m is HeaderModifiers => m !== undefined && !isEmpty(m));
  const matched = route.match.pathPrefix ?? route.match.path;
  const replacement = route.prefixRewrite;
  const rewritesPath = replacement !== undefined && matched !== undefined;
  if (!rewritesPath && modifiers.length === 0) return undefined;
  return (request) => {
    let headers: Record<string, string | string[]> = request.headers;
    if (modifiers.length > 0) {
      headers = { ...request.headers };
      for (const m of modifiers) applyModifiers(headers, m);
    }
    const path = rewritesPath && request.path.startsWith(matched) ? replacement + request.path.slice(matched.length) : request.path;
    // NOTE: a POST may be idempotent only by its Idempotency-Key; once the route removes the
    // key, the server can no longer tell a resend from a new request, so it is not resent
    // (an explicit `idempotent: true` is lost with it: the safe side of DESIGN §5).
    const keyRemoved = request.headers['idempotency-key'] !== undefined && headers['idempotency-key'] === undefined;
    const idempotent = request.idempotent && (!keyRemoved || isIdempotentMethod(request.method));
    return { ...request, path, headers, idempotent };
  };
}

/** The target's response header change, or undefined when it changes nothing. */
export function responseRewriteFor(route: RouteDefinition, target: RouteTarget): ResponseRewrite | undefined {
  const modifiers = [route.responseHeaders, target.responseHeaders].filter((m): m is HeaderModifiers => m !== undefined && !isEmpty(m));
  if (modifiers.length === 0) return undefined;
  return (response) => {
    for (const m of modifiers) applyModifiers(response.headers as Record<string, string | string[] | undefined>, m);
    return response;
  };
}

function applyModifiers(headers: Record<string, string | string[] | undefined>, modifiers: HeaderModifiers): void {
  for (const name of modifiers.remove) delete headers[name.toLowerCase()];
  for (const [name, value] of Object.entries(modifiers.set)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(modifiers.add)) {
    const key = name.toLowerCase();
    // Own headers only: `constructor` would read Object's prototype's function.
    const existing = Object.hasOwn(headers, key) ? headers[key] : undefined;
    headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
}

function isEmpty(modifiers: HeaderModifiers): boolean {
  return modifiers.remove.length === 0 && Object.keys(modifiers.set).length === 0 && Object.keys(modifiers.add).length === 0;
}
