/**
 * The mesh's typed events (core/events.ts) turned into telemetry, in one place, so no layer
 * or control-plane module knows telemetry exists:
 * - `meshlet:config` and `meshlet:endpoint` channel messages (config applied or rejected;
 *   endpoints added, removed, ejected, readmitted), built only when the channel has a
 *   subscriber. These events are rare (a config push, a discovery change, an ejection), so
 *   their listeners are installed when the mesh is made (`bridgeMeshEvents`): the endpoint
 *   diffs need every list from the first.
 * - span events and metric counters for retries, hedges, budget refusals, shed calls,
 *   ejections and breaker transitions. An event goes on the span of the call it happened to,
 *   found without entering the call's context (call-span.ts says how, per event). These
 *   listeners cost a payload per retry, so they are installed only once an OpenTelemetry SDK
 *   is seen (`bridgeOtelEvents`, from telemetry-stack.ts when a stack is built).
 */
import type { Call } from '../core/call-context.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import { callSpan } from './call-span.ts';
import { type ConfigMessage, configChannel, type EndpointMessage, endpointChannel } from './channels.ts';
import { meshIdOf } from './mesh-id.ts';
import { otel } from './otel-state.ts';

const bridged = new WeakSet<MeshEventEmitter>();
const otelBridged = new WeakSet<MeshEventEmitter>();

export function bridgeMeshEvents(events: MeshEventEmitter): void {
  if (bridged.has(events)) return;
  bridged.add(events);
  const mesh = meshIdOf(events);
  let version = 0;
  events.on('config', (event) => {
    version = event.version;
    if (configChannel.hasSubscribers) publishConfig({ mesh, kind: 'applied', source: event.source, version, changedServices: event.changedServices, issues: [] });
  });
  events.on('config-rejected', (event) => {
    otel.instruments?.configRejections.add(1, { 'meshlet.source': sourceKind(event.source) });
    if (configChannel.hasSubscribers) publishConfig({ mesh, kind: 'rejected', source: event.source, version, changedServices: [], issues: event.issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)) });
  });
  const known = new Map<string, ReadonlySet<string>>();
  events.on('endpoints', (event) => {
    const before = known.get(event.service) ?? new Set<string>();
    const now = new Set(event.endpoints);
    known.set(event.service, now);
    if (!endpointChannel.hasSubscribers) return;
    for (const endpoint of now) if (!before.has(endpoint)) publishEndpoint({ mesh, service: event.service, endpoint, event: 'added', reason: undefined });
    for (const endpoint of before) if (!now.has(endpoint)) publishEndpoint({ mesh, service: event.service, endpoint, event: 'removed', reason: undefined });
  });
  events.on('eject', (event) => {
    if (endpointChannel.hasSubscribers) publishEndpoint({ mesh, service: event.service, endpoint: event.endpoint, event: 'ejected', reason: event.reason });
  });
  events.on('readmit', (event) => {
    if (endpointChannel.hasSubscribers) publishEndpoint({ mesh, service: event.service, endpoint: event.endpoint, event: 'readmitted', reason: undefined });
  });
}

export function bridgeOtelEvents(events: MeshEventEmitter): void {
  if (otelBridged.has(events)) return;
  otelBridged.add(events);
  events.on('retry', (event) => {
    otel.instruments?.retries.add(1, { 'meshlet.service': event.service });
    spanEvent(event.call, 'meshlet.retry', { 'meshlet.service': event.service, 'meshlet.attempt': event.attempt, 'meshlet.retry.reason': event.reason, 'meshlet.retry.delay_ms': event.delayMs });
  });
  events.on('hedge', (event) => {
    otel.instruments?.hedges.add(1, { 'meshlet.service': event.service });
    spanEvent(event.call, 'meshlet.hedge', { 'meshlet.service': event.service, 'meshlet.attempt': event.attempt });
  });
  events.on('budget-exhausted', (event) => {
    otel.instruments?.budgetExhausted.add(1, { 'meshlet.service': event.service });
    spanEvent(event.call, 'meshlet.retry_budget.exhausted', { 'meshlet.service': event.service });
  });
  events.on('shed', (event) => {
    otel.instruments?.shed.add(1, { 'meshlet.service': event.service, 'meshlet.shed.reason': event.reason });
  });
  events.on('eject', (event) => {
    otel.instruments?.ejections.add(1, { 'meshlet.service': event.service });
    spanEvent(undefined, 'meshlet.eject', { 'meshlet.service': event.service, 'meshlet.endpoint': event.endpoint, 'meshlet.eject.reason': event.reason });
  });
  events.on('breaker', (event) => {
    spanEvent(undefined, 'meshlet.breaker', { 'meshlet.service': event.service, 'meshlet.breaker.state': event.state });
  });
}

/** A span event on the call's span (`call`: the call the event names, when it names one). */
function spanEvent(call: Call | undefined, name: string, attributes: Record<string, string | number>): void {
  callSpan(call)?.addEvent(name, attributes);
}

function publishConfig(message: ConfigMessage): void {
  configChannel.publish(message);
}

function publishEndpoint(message: EndpointMessage): void {
  endpointChannel.publish(message);
}

/** A bounded label for where a rejected config came from: the store kind, not its address or key. */
function sourceKind(source: string): string {
  const colon = source.indexOf(':');
  return colon === -1 ? source : source.slice(0, colon);
}
