/**
 * Every MeshError meshlet raises to a caller is built here, one function per situation
 * (MESH_ABORTED in errors.ts, MESH_CONFIG_INVALID in src/config, a refused call argument in
 * src/mesh/call-argument-error.ts), so each code has one builder and every message one style:
 * `call to 'payments' <what happened>; <what to do>` (lower-case start, the service in single
 * quotes, a semicolon before the advice, no trailing period). NOTE: a layer that finds a new way to fail adds a function here rather
 * than a `new MeshError` at its call site, so the code, the fields and the wording stay in
 * step across layers.
 */
import { MeshError, TransportError } from './errors.ts';
import { redactText } from './redact.ts';

/** The subject of a message: the call to a service, or "the call" when no single service applies. */
function callTo(service: string | undefined): string {
  return service === undefined ? 'the call' : `call to '${service}'`;
}

function tries(attempts: number): string {
  return attempts === 1 ? '1 attempt' : `${attempts} attempts`;
}

// --- MESH_TIMEOUT ---

/** The call's own deadline (its `timeout`, or the inbound request's) passed. */
export function deadlineExceeded(service: string, deadlineMs: number, attempts: number): MeshError {
  return new MeshError(
    'MESH_TIMEOUT',
    `${callTo(service)} exceeded its ${Math.round(deadlineMs)} ms deadline; raise \`timeout\` for the service or the call, or find why the dependency is slow`,
    { service, attempts },
  );
}

/** The inbound request the call serves was already past its deadline when the call began: nothing was sent. */
export function inboundDeadlinePassed(service: string): MeshError {
  return new MeshError(
    'MESH_TIMEOUT',
    `${callTo(service)} was not sent: the inbound request it serves had already reached its deadline; nothing to do unless that inbound timeout is too short`,
    { service, attempts: 0 },
  );
}

/**
 * One attempt overran its per-try timeout before its response head: a TransportError, since
 * the retry layer judges it (a timeout it may retry) and toCallerError words it for the caller.
 */
export function perTryTimedOut(service: string, attempt: number, limitMs: number, endpoint: string | undefined): TransportError {
  return new TransportError('timeout', true, `attempt ${attempt} to '${service}' exceeded its ${limitMs} ms per-try timeout`, undefined, endpoint);
}

/** The per-try timeout fired after the head: the caller reading the body gets this. */
export function perTryTimedOutInBody(service: string, attempt: number, limitMs: number): MeshError {
  return new MeshError(
    'MESH_TIMEOUT',
    `${callTo(service)} exceeded its ${limitMs} ms per-try timeout while the response body was read (attempt ${attempt}); raise perTryTimeout or read the body sooner`,
    { service, attempts: attempt },
  );
}

export function deadlineWhileQueued(service: string): MeshError {
  return new MeshError(
    'MESH_TIMEOUT',
    `${callTo(service)} reached its deadline while waiting for a concurrency slot; raise its timeout or concurrency.max`,
    { service },
  );
}

export function deadlineDuringInjectedDelay(service: string): MeshError {
  return new MeshError(
    'MESH_TIMEOUT',
    `${callTo(service)} reached its deadline during an injected fault delay; this is fault injection (fault.delay), not the server`,
    { service },
  );
}

// --- MESH_NO_ENDPOINTS ---

/** `discoveryError`: what discovery reports failing now, the likelier cause than a config typo. */
export function noEndpoints(service: string, discoveryError?: Error): MeshError {
  if (discoveryError !== undefined) {
    return new MeshError('MESH_NO_ENDPOINTS', `${callTo(service)} found no endpoints: its discovery failed: ${discoveryError.message}`, {
      service,
      cause: discoveryError,
    });
  }
  return new MeshError(
    'MESH_NO_ENDPOINTS',
    `${callTo(service)} found no endpoints; check its discovery config (static endpoints, DNS name, or Consul service name and tags) and that instances are registered and passing health checks`,
    { service },
  );
}

export function allEndpointsEjected(service: string, known: number): MeshError {
  return new MeshError(
    'MESH_NO_ENDPOINTS',
    `${callTo(service)} found no endpoint that can take calls: all ${known} are ejected by outlier detection; check the instances' health, or lower outlier.maxEjectedPercent / raise outlier.panicThreshold`,
    { service },
  );
}

/** A stack assembled without its balancer: a bug in meshlet, not in the caller's code. */
export function noEndpointChosen(service: string): MeshError {
  return new MeshError(
    'MESH_NO_ENDPOINTS',
    `${callTo(service)} reached the transport with no endpoint chosen; the balancer layer must sit above the transport`,
    { service },
  );
}

// --- MESH_CLOSED ---

export function endpointsClosed(service: string): MeshError {
  return new MeshError(
    'MESH_CLOSED',
    `${callTo(service)} found its endpoints closed (the service left the config, or the mesh closed); put the service back in the config, or create a new mesh`,
    { service },
  );
}

export function clientClosed(service: string): MeshError {
  return new MeshError('MESH_CLOSED', `${callTo(service)} was refused because its client was closed; create a new one from the mesh`, { service });
}

export function clientClosedWhileQueued(service: string): MeshError {
  return new MeshError(
    'MESH_CLOSED',
    `${callTo(service)} was not sent: its client was closed while the call waited for a concurrency slot; create a new one from the mesh`,
    { service },
  );
}

export function meshClosed(service: string): MeshError {
  return new MeshError('MESH_CLOSED', `${callTo(service)} was refused because the mesh is closed; create a new mesh to call '${service}'`, { service });
}

/** One error for every queued call of every service, so it names none. */
export function meshClosedWhileQueued(): MeshError {
  return new MeshError('MESH_CLOSED', `${callTo(undefined)} was not sent: the mesh closed while it waited for a concurrency slot; make calls before close()`);
}

/** One error for every call still running when close() stops waiting, so it names none. */
export function meshClosedCallCut(boundMs: number): MeshError {
  return new MeshError(
    'MESH_CLOSED',
    `${callTo(undefined)} was cut off: the mesh closed and it was still running after ${boundMs} ms; give close({ timeout }) longer to let calls finish`,
  );
}

// --- MESH_CIRCUIT_OPEN ---

export function circuitOpen(service: string, probeInMs: number): MeshError {
  return new MeshError(
    'MESH_CIRCUIT_OPEN',
    `${callTo(service)} was refused: its circuit is open after too many failures and lets a probe call through in ${probeInMs}ms; fail fast or fall back until then`,
    { service },
  );
}

export function circuitHalfOpen(service: string): MeshError {
  return new MeshError('MESH_CIRCUIT_OPEN', `${callTo(service)} was refused: its circuit is half-open and a probe call is in flight; retry in a moment`, { service });
}

// --- MESH_RATE_LIMITED, MESH_CONCURRENCY_LIMIT ---

export function rateLimited(service: string, rps: number, retryInMs: number): MeshError {
  const hint = retryInMs > 0 ? `, a token frees up in about ${retryInMs}ms` : '';
  return new MeshError('MESH_RATE_LIMITED', `${callTo(service)} was refused by its rate limit (${rps}/s${hint}); slow down, or raise rateLimit.rps/burst`, { service });
}

/** `why` completes "N calls already in flight", e.g. " (adaptive limit)". */
export function concurrencyLimited(service: string, limit: number, why: string): MeshError {
  return new MeshError(
    'MESH_CONCURRENCY_LIMIT',
    `${callTo(service)} was refused: ${limit} calls already in flight${why}; retry later or raise concurrency.max`,
    { service },
  );
}

// --- MESH_UPSTREAM_FAILED, and the one translation to what the caller sees ---

/**
 * What the caller sees when a call fails, whatever failed: a MeshError passes unchanged (a
 * deadline, no endpoints, an open circuit, an abort); a transport error becomes MESH_TIMEOUT
 * (a per-try timeout) or MESH_UPSTREAM_FAILED; anything else (a bug) MESH_UPSTREAM_FAILED
 * with it as the cause. NOTE: both the retry layer (its last attempt) and the mesh (with
 * retries off, nothing below translates) call this, so a failure reads the same either way.
 */
export function toCallerError(error: unknown, service: string, attempts: number): MeshError {
  if (error instanceof MeshError) return error;
  if (error instanceof TransportError) {
    if (error.kind === 'timeout') {
      return new MeshError(
        'MESH_TIMEOUT',
        `${callTo(service)} timed out after ${tries(attempts)} (${error.message}); raise perTryTimeout or find why the dependency is slow`,
        { service, attempts, cause: error },
      );
    }
    // The transport's message says what to do.
    return new MeshError('MESH_UPSTREAM_FAILED', `${callTo(service)} failed after ${tries(attempts)}: ${error.message}`, { service, attempts, cause: error });
  }
  return new MeshError('MESH_UPSTREAM_FAILED', `${callTo(service)} failed: ${String(error)}; the error's cause has the details`, { service, attempts, cause: error });
}

/** The connection failed while the caller read a response body (`why` says how). */
export function bodyBrokeOff(service: string, endpoint: string | undefined, why: string, cause: unknown): MeshError {
  return new MeshError(
    'MESH_UPSTREAM_FAILED',
    `${callTo(service)} failed: its response body from endpoint ${endpoint ?? 'unknown'} broke off while it was read (${why}); the response is incomplete, so retry the call if it is safe to repeat`,
    { service, cause },
  );
}

// --- MESH_UNKNOWN_SERVICE, MESH_BAD_REQUEST ---

export function unknownService(requested: string, known: Iterable<string>): MeshError {
  // NOTE: any string reaches here (`mesh.client('http://user:pw@api')`): echoed redacted.
  const name = redactText(requested);
  const names = [...known];
  return new MeshError(
    'MESH_UNKNOWN_SERVICE',
    `${callTo(name)} names no service in the mesh config (known: ${names.length > 0 ? names.join(', ') : 'none'}); add it under services.${name}`,
    { service: name },
  );
}

/** A bad argument to a mesh API that serves no one service (`createMesh`, `mesh.fetch`, `runWithInbound`). */
export function invalidArgument(api: string, message: string, cause?: unknown): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `${api}: ${message}`, { cause });
}

/** The protocol client refused the request as written (a bad method, path, header or body). */
export function refusedByClient(service: string | undefined, client: string, code: string, cause: unknown): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `${callTo(service)} was refused by the ${client} client (${code}); fix the method, path, headers or body`, {
    service,
    cause,
  });
}

// --- MESH_BAD_REQUEST (control stores) ---

/** A control store watched twice: each store serves one mesh. */
export function storeAlreadyWatched(source: string): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `${source} is already being watched; create one store per mesh`);
}
