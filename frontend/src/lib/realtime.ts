import type { TokenSource } from "@/lib/http";
import type { ClientAction, ServerEvent } from "@/types/ws";

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0 = exact delays (tests), 0.5 = up to half of each delay removed at random. */
  jitter: number;
}

export interface RealtimeOptions {
  backoff?: Partial<BackoffOptions>;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 15_000, jitter: 0.5 };

/** Exponential backoff with jitter, so a fleet of clients does not reconnect in lockstep. */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
  return Math.round(base * (1 - options.jitter * random()));
}

type Listener<T> = (value: T) => void;

/**
 * The app's one WebSocket: authenticates with the token in the subprotocol (never the URL),
 * reconnects with backoff, re-subscribes to every open conversation after a reconnect (the
 * server then answers `subscribed` with the resume point of any streaming reply), and queues
 * messages sent while offline — `sendMessage` is idempotent by clientMessageId, so a resend
 * after a reconnect cannot duplicate a message.
 */
export class RealtimeClient {
  private socket: WebSocket | null = null;
  private state: ConnectionState = "closed";
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readonly subscriptions = new Set<string>();
  private readonly outbox: ClientAction[] = [];
  private readonly eventListeners = new Set<Listener<ServerEvent>>();
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly backoff: BackoffOptions;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly random: () => number;

  constructor(
    private readonly url: string,
    private readonly tokens: TokenSource,
    options: RealtimeOptions = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.WebSocketImpl = options.WebSocketImpl ?? WebSocket;
    this.random = options.random ?? Math.random;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000, "bye");
    this.setState("closed");
  }

  /** Reconnects now instead of waiting for the backoff (e.g. when the browser goes online). */
  reconnectNow(): void {
    if (this.stopped || this.state === "open" || this.state === "connecting") return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.connect();
  }

  /**
   * Drops the connection now (the browser says it is offline): a dead socket can take minutes
   * to notice by itself, and the person should see at once that live updates have stopped.
   */
  dropConnection(): void {
    if (this.stopped || !this.socket) return;
    const socket = this.socket;
    this.socket = null;
    socket.close(4000, "offline");
    this.scheduleReconnect();
  }

  subscribe(conversationId: string): void {
    if (this.subscriptions.has(conversationId)) return;
    this.subscriptions.add(conversationId);
    this.sendNow({ action: "subscribe", conversationId });
  }

  unsubscribe(conversationId: string): void {
    if (!this.subscriptions.delete(conversationId)) return;
    this.sendNow({ action: "unsubscribe", conversationId });
  }

  /** Asks the server for a fresh resume point (after a gap in a reply's deltas). */
  resubscribe(conversationId: string): void {
    if (this.subscriptions.has(conversationId)) this.sendNow({ action: "subscribe", conversationId });
  }

  /** Sends an action; while disconnected it waits in order for the next connection, except
   * typing signals, which are only worth sending now. */
  send(action: ClientAction): void {
    if (this.state === "open" && this.socket) {
      this.socket.send(JSON.stringify(action));
    } else if (action.action !== "typing") {
      this.outbox.push(action);
    }
  }

  onEvent(listener: Listener<ServerEvent>): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onState(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  private sendNow(action: ClientAction): void {
    if (this.state === "open" && this.socket) this.socket.send(JSON.stringify(action));
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let token: string;
    try {
      // After two failed attempts the token may be the problem (the browser cannot see a 401
      // on the handshake), so refresh it.
      token = await this.tokens.getToken(this.attempt >= 2);
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    let socket: WebSocket;
    try {
      socket = new this.WebSocketImpl(this.url, ["parley", token]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.setState("open");
      for (const conversationId of this.subscriptions) socket.send(JSON.stringify({ action: "subscribe", conversationId }));
      for (const action of this.outbox.splice(0)) socket.send(JSON.stringify(action));
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      let event: ServerEvent;
      try {
        event = JSON.parse(message.data) as ServerEvent;
      } catch {
        return;
      }
      if (event && typeof event === "object" && typeof event.type === "string") {
        for (const listener of this.eventListeners) listener(event);
      }
    };
    // A failed connection reports an error, then a close: the close schedules the retry.
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState("reconnecting");
    const delay = backoffDelay(this.attempt, this.backoff, this.random);
    this.attempt += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  private setState(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
