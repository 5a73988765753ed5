/**
 * The `meshlet` load-balancer type for grpc-js. It keeps one subchannel (one HTTP/2
 * connection) per endpoint the resolver reports, and its picker sends each attempt to the
 * endpoint meshlet's balancer layer already chose for it (p2c-ewma by default, outlier
 * ejection, ring-hash…: the service's own picker over the same endpoint set as its HTTP calls,
 * so load statistics and ejections are shared). The attempt rides on the call's metadata
 * options (attempt-transport.ts); the picker reads it, never the wire.
 *
 * An endpoint whose subchannel cannot connect fails its pick with UNAVAILABLE at once (not
 * sent, so any method may be retried on another endpoint, and outlier ejection counts it);
 * one still connecting queues until the subchannel's state changes.
 */
import grpc from '@grpc/grpc-js';
import type { experimental, StatusObject } from '@grpc/grpc-js';
import { ATTEMPT_OPTION, type AttemptOnWire, TIMEOUT_METADATA } from './attempt-transport.ts';

type Subchannel = experimental.SubchannelInterface;
type PickResult = experimental.PickResult;
type ConnectivityState = grpc.connectivityState;

const { connectivityState: State, status: Status, Metadata } = grpc;
const { PickResultType } = grpc.experimental;

export const MESHLET_BALANCER = 'meshlet';

/** The channel option (credentials.ts) asking for each subchannel's TLS name to be its endpoint's host. */
export const TLS_PER_ENDPOINT = 'meshlet.tls_per_endpoint';

function keyOf(host: string, port: number): string {
  return `${host}|${port}`;
}

/** grpc-js's service-config entry naming this balancer (its config has no fields). */
export class MeshletBalancerConfig implements experimental.TypedLoadBalancingConfig {
  getLoadBalancerName(): string {
    return MESHLET_BALANCER;
  }
  toJsonObject(): object {
    return { [MESHLET_BALANCER]: {} };
  }
  static createFromJson(): MeshletBalancerConfig {
    return new MeshletBalancerConfig();
  }
}

const QUEUE: PickResult = { pickResultType: PickResultType.QUEUE, subchannel: null, status: null, onCallStarted: null, onCallEnded: null };

/** One subchannel the balancer keeps, with the endpoint's host and port it was made for. */
interface Kept {
  readonly subchannel: Subchannel;
  readonly host: string;
  readonly port: number;
}

/** Pick results by port, then host: a pick looks its endpoint up without building a key string per call. */
type ByAddress = Map<number, Map<string, PickResult>>;

function put(map: ByAddress, kept: Kept, result: PickResult): void {
  const byHost = map.get(kept.port) ?? new Map<string, PickResult>();
  byHost.set(kept.host, result);
  map.set(kept.port, byHost);
}

/** An immutable snapshot of the subchannels and their states (grpc-js's Picker contract). */
class MeshletPicker implements experimental.Picker {
  readonly #ready: ByAddress = new Map();
  readonly #failed: ByAddress = new Map();
  /** For a call made without meshlet's interceptor: the first ready subchannel. */
  readonly #any: PickResult;

  constructor(subchannels: Iterable<Kept>) {
    let any: PickResult | undefined;
    for (const kept of subchannels) {
      const { subchannel } = kept;
      const state = subchannel.getConnectivityState();
      if (state === State.READY) {
        const result: PickResult = { pickResultType: PickResultType.COMPLETE, subchannel, status: null, onCallStarted: null, onCallEnded: null };
        any ??= result;
        put(this.#ready, kept, result);
      } else if (state === State.TRANSIENT_FAILURE) put(this.#failed, kept, unreachable(subchannel));
    }
    this.#any = any ?? QUEUE;
  }

  pick(args: experimental.PickArgs): PickResult {
    const attempt = (args.metadata.getOptions() as Record<symbol, unknown>)[ATTEMPT_OPTION] as AttemptOnWire | undefined;
    const address = attempt?.endpoint?.address;
    if (address === undefined) return this.#any;
    const ready = this.#ready.get(address.port)?.get(address.host);
    if (ready !== undefined) {
      // The metadata picked with is what goes on the wire: the attempt's time left now, as grpc-js writes its own deadline's.
      const timeout = attempt!.grpcTimeout();
      if (timeout !== undefined) args.metadata.set(TIMEOUT_METADATA, timeout);
      return ready;
    }
    const picked = this.#failed.get(address.port)?.get(address.host);
    if (picked !== undefined) return picked;
    // NOTE: no subchannel yet is a resolver update on its way (queue); none any more, for an
    // endpoint discovery removed, would queue until the deadline: it fails unsent instead.
    return (attempt!.endpoint as { draining?: boolean }).draining === true ? LEFT_DISCOVERY : QUEUE;
  }
}

const LEFT_DISCOVERY: PickResult = {
  pickResultType: PickResultType.TRANSIENT_FAILURE,
  subchannel: null,
  status: { code: Status.UNAVAILABLE, details: 'meshlet: the endpoint chosen for this attempt left discovery; the call goes to another endpoint when a retry is allowed', metadata: new Metadata() },
  onCallStarted: null,
  onCallEnded: null,
};

function unreachable(subchannel: Subchannel): PickResult {
  const status: StatusObject = {
    code: Status.UNAVAILABLE,
    details: `meshlet: endpoint ${subchannel.getAddress()} is unreachable (its connection failed); the call goes to another endpoint when a retry is allowed`,
    metadata: new Metadata(),
  };
  return { pickResultType: PickResultType.TRANSIENT_FAILURE, subchannel: null, status, onCallStarted: null, onCallEnded: null };
}

export class MeshletBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  readonly #subchannels = new Map<string, Kept>();
  /** Whether a subchannel was IDLE at the last state change: grpc-js calls exitIdle() on every call. */
  #anyIdle = false;
  readonly #listener = (subchannel: Subchannel, _previous: ConnectivityState, next: ConnectivityState): void => {
    // Connections are kept warm: an endpoint that went idle (its connection closed) reconnects.
    if (next === State.IDLE) subchannel.startConnecting();
    this.#publish();
  };

  constructor(helper: experimental.ChannelControlHelper) {
    this.#helper = helper;
  }

  updateAddressList(endpoints: experimental.StatusOr<experimental.Endpoint[]>, _config: experimental.TypedLoadBalancingConfig, options: Record<string, unknown>): boolean {
    if (!endpoints.ok) {
      if (this.#subchannels.size === 0) this.#helper.updateState(State.TRANSIENT_FAILURE, new grpc.experimental.UnavailablePicker(endpoints.error), endpoints.error.details);
      return true;
    }
    const seen = new Set<string>();
    for (const endpoint of endpoints.value) {
      const address = endpoint.addresses[0];
      if (address === undefined || !('host' in address)) continue;
      const key = keyOf(address.host, address.port);
      seen.add(key);
      if (this.#subchannels.has(key)) continue;
      // A TLS channel without a configured servername checks each endpoint's certificate against that endpoint's host (credentials.ts);
      // credentials.ts never sets both, so an override beside the flag is the caller's own (channelOptions), and it stands.
      const args = options[TLS_PER_ENDPOINT] === 1 && options['grpc.ssl_target_name_override'] === undefined ? { ...options, 'grpc.ssl_target_name_override': address.host } : options;
      const subchannel = this.#helper.createSubchannel(address, args);
      subchannel.ref();
      subchannel.addConnectivityStateListener(this.#listener);
      this.#subchannels.set(key, { subchannel, host: address.host, port: address.port });
      subchannel.startConnecting();
    }
    for (const [key, { subchannel }] of this.#subchannels) {
      if (seen.has(key)) continue;
      this.#release(subchannel);
      this.#subchannels.delete(key);
    }
    this.#publish();
    return true;
  }

  #publish(): void {
    let ready = false;
    let connecting = false;
    let idle = false;
    for (const { subchannel } of this.#subchannels.values()) {
      const state = subchannel.getConnectivityState();
      if (state === State.READY) ready = true;
      else if (state === State.CONNECTING || state === State.IDLE) connecting = true;
      if (state === State.IDLE) idle = true;
    }
    this.#anyIdle = idle;
    // NOTE: never IDLE: picks always reach this picker, which knows each endpoint's state.
    const state = ready ? State.READY : connecting ? State.CONNECTING : State.TRANSIENT_FAILURE;
    this.#helper.updateState(state, new MeshletPicker(this.#subchannels.values()), null);
  }

  #release(subchannel: Subchannel): void {
    subchannel.removeConnectivityStateListener(this.#listener);
    subchannel.unref();
  }

  exitIdle(): void {
    // Every subchannel's change to IDLE comes through #listener (it reconnects, then publishes): none idle then, nothing to do.
    if (!this.#anyIdle) return;
    for (const { subchannel } of this.#subchannels.values()) if (subchannel.getConnectivityState() === State.IDLE) subchannel.startConnecting();
  }

  resetBackoff(): void {}

  destroy(): void {
    for (const { subchannel } of this.#subchannels.values()) this.#release(subchannel);
    this.#subchannels.clear();
  }

  getTypeName(): string {
    return MESHLET_BALANCER;
  }
}
