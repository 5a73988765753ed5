/**
 * The one per-call question the telemetry layers ask: does anyone observe calls now? An
 * OpenTelemetry SDK (otel-state.ts, refreshed when stacks are built) or a subscriber to one
 * of the call or attempt channels. Field reads only, so a call nobody observes pays a few
 * nanoseconds here and allocates nothing.
 */
import { attemptEndChannel, attemptStartChannel, callEndChannel, callStartChannel } from './channels.ts';
import { otel } from './otel-state.ts';

export function observing(): boolean {
  return otel.tracing || otel.metering || callStartChannel.hasSubscribers || callEndChannel.hasSubscribers || attemptStartChannel.hasSubscribers || attemptEndChannel.hasSubscribers;
}
