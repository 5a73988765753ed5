/**
 * The admin page's recent events: ejections, readmissions, breaker transitions, failovers,
 * config versions and rejections (with every issue), control-store and discovery errors. These
 * come from the mesh's own typed events (`mesh.on`), not the process-wide channels, so they are
 * this mesh's alone; they are rare (none per call), and each is kept in a bounded ring.
 *
 * Everything kept is already redacted by the mesh (its events carry redacted errors and
 * issues); config.json and state.json redact again as a whole.
 */
import type { ConfigIssue } from '../core/errors.ts';
import type { Disposer, Listener, MeshEventName } from '../core/events.ts';

const MAX_EVENTS = 100;
const MAX_REJECTIONS = 20;

export interface LoggedEvent {
  readonly at: string;
  readonly kind: string;
  readonly service: string | null;
  readonly detail: string;
  /** How many times in a row it happened (the last time is `at`). */
  readonly count: number;
}

export interface Rejection {
  readonly at: string;
  readonly source: string;
  readonly issues: readonly ConfigIssue[];
}

export type EventSource = <K extends MeshEventName>(name: K, listener: Listener<K>) => Disposer;

export class EventLog {
  readonly events: LoggedEvent[] = [];
  readonly rejections: Rejection[] = [];
  readonly #disposers: Disposer[];

  constructor(on: EventSource) {
    this.#disposers = [
      on('eject', (e) => this.#push('eject', e.service, `${e.endpoint} ejected: ${e.reason}`)),
      on('readmit', (e) => this.#push('readmit', e.service, `${e.endpoint} back in rotation`)),
      on('breaker', (e) => this.#push('breaker', e.service, `breaker ${e.state}`)),
      on('failover', (e) => this.#push('failover', e.service, `${e.target} served by ${e.servedBy ?? 'nothing'}`)),
      on('config', (e) => this.#push('config', null, `version ${e.version} from ${e.source}; changed: ${e.changedServices.join(', ') || 'none'}`)),
      on('config-rejected', (e) => {
        this.#push('config-rejected', null, `from ${e.source}: ${e.issues.map((issue) => `${issue.path || '(document)'}: ${issue.message}`).join('; ')}`);
        bounded(this.rejections, { at: new Date().toISOString(), source: e.source, issues: e.issues }, MAX_REJECTIONS);
      }),
      on('control-error', (e) => this.#push('control-error', null, `${e.source}: ${e.error.message}`)),
    ];
  }

  close(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
  }

  #push(kind: string, service: string | null, detail: string): void {
    const at = new Date().toISOString();
    const last = this.events.at(-1);
    // The same event again (a discovery error every retry, a flapping endpoint): one entry with
    // a count, so a storm of one kind does not push every other event out of the ring.
    if (last !== undefined && last.kind === kind && last.service === service && last.detail === detail) {
      this.events[this.events.length - 1] = { ...last, at, count: last.count + 1 };
      return;
    }
    bounded(this.events, { at, kind, service, detail, count: 1 }, MAX_EVENTS);
  }
}

function bounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.shift();
}
