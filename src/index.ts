/**
 * meshlet: an in-process service mesh for Node.js. Every outgoing call to another service
 * goes through one stack — discovery, balancing, deadlines, retries under a budget, hedging,
 * circuit breaking, limits, fault injection — configured from one shared config.
 */
export { createMesh, Mesh, type MeshOptions, type ServiceClient } from './mesh/mesh.ts';
export type { HttpCheckOptions, RegisteredService, RegisterOptions, TtlCheckOptions } from './mesh/registration.ts';
export type { RequestOptions } from './mesh/request-options.ts';
export type { HeadersInput } from './mesh/request-headers.ts';
export { MeshError, isMeshError, type MeshErrorCode, type ConfigIssue } from './core/errors.ts';
export type { MeshEvents, MeshEventName, Disposer } from './core/events.ts';
export type { MeshResponse, RequestBody } from './core/service.ts';
export type { ControlStore, ControlListener } from './control/control-store.ts';
/** The config a user writes (code, JSON or YAML): durations as strings or milliseconds. */
export type { MeshConfigInput as MeshConfig } from './config/schema.ts';
export { runWithInbound, type InboundOptions } from './mesh/inbound.ts';
export type { AdminHandler, AdminOptions } from './admin/admin-handler.ts';
export { TIMEOUT_HEADER, ATTEMPT_HEADER } from './resilience/attempt.ts';
/** Observability (README "Observability"): re-read the OpenTelemetry registry; instrumentation-undici's `ignoreRequestHook`. */
export { refreshTelemetry } from './telemetry/telemetry-stack.ts';
export { isMeshletAttempt } from './telemetry/otel-tracing.ts';
