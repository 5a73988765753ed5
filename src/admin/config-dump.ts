/**
 * config.json: the config in force as the mesh resolved it (every service's full policy,
 * defaults filled in, as the stacks were built from it), where it came from, the versions
 * applied so far and the recent rejections with every reason — what an operator needs to tell
 * "my push did not take" from "my push took and did the wrong thing".
 *
 * NOTE: redacted as a whole (core/redact.ts): a Redis URL's password, a secret-named value
 * (`token`, `password`, a TLS `key`) or a credential in a quoted error never leaves here.
 */
import { redactValue } from '../core/redact.ts';
import type { EventLog, Rejection } from './event-log.ts';
import type { AdminSource } from './state-view.ts';

export function configDump(source: AdminSource, log: EventLog): Record<string, unknown> {
  const state = source.state();
  const services: Record<string, unknown> = {};
  for (const policy of source.policies()) services[policy.name] = policy;
  return redactValue({
    service: state.service,
    config: state.config,
    services,
    rejections: withLastRejected(log.rejections, (state.config as { lastRejected?: Rejection | null } | undefined)?.lastRejected),
    generatedAt: new Date().toISOString(),
  });
}

/** The log starts with the first handler; the mesh's own last rejection may be older: it leads then. */
function withLastRejected(logged: readonly Rejection[], last: Rejection | null | undefined): readonly Rejection[] {
  if (last === null || last === undefined || logged.some((r) => r.source === last.source && JSON.stringify(r.issues) === JSON.stringify(last.issues))) return logged;
  return [last, ...logged];
}
