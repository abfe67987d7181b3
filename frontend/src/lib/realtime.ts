import type { TokenSource } from "@/lib/http";
import { errorCode } from "@/lib/ws-errors";
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
  /** At most one typing signal per room in this time (the server refuses more). */
  typingIntervalMs?: number;
  /** How long to wait before subscribing again after the server said `rate_limited`. */
  rateLimitRetryMs?: number;
}

const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 15_000, jitter: 0.5 };
const TYPING_INTERVAL_MS = 2000;
const RATE_LIMIT_RETRY_MS = 2000;
/** A token with less life left than this is refreshed before it is used to connect. */
const MIN_TOKEN_LIFETIME_S = 60;

type SendMessage = Extract<ClientAction, { action: "sendMessage" }>;

/** Seconds since the epoch at which a JWT expires, or null when it cannot be read. */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = token.split(".")[1] ?? "";
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}

/**
 * Lets through at most one typing signal per interval: the first at once, and at the end of the
 * interval the latest state if it differs from the one sent (a change undone meanwhile is not
 * sent). The server refuses signals that come faster.
 */
export class TypingThrottle {
  private lastAt = -Infinity;
  private lastSent: boolean | null = null;
  private pending: boolean | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly transmit: (isTyping: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {}

  offer(isTyping: boolean): void {
    const wait = this.lastAt + this.intervalMs - this.now();
    if (wait <= 0 && !this.timer) return this.emit(isTyping);
    this.pending = isTyping;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      const pending = this.pending;
      this.pending = null;
      if (pending !== null && pending !== this.lastSent) this.emit(pending);
    }, wait);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private emit(isTyping: boolean): void {
    this.lastAt = this.now();
    this.lastSent = isTyping;
    this.transmit(isTyping);
  }
}

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
 * after a reconnect cannot duplicate a message, and one sent but not yet echoed when a
 * connection ends is sent again on the next.
 *
 * The server refuses every action once the connection's token has expired (`unauthorized`,
 * then it closes): the client then connects again with a refreshed token, and no connection
 * ever starts with a token about to expire. Typing signals are throttled per room, and a
 * subscription refused as too frequent (`rate_limited`) is asked for again a little later.
 */
export class RealtimeClient {
  private socket: WebSocket | null = null;
  private state: ConnectionState = "closed";
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readonly subscriptions = new Set<string>();
  /** Subscriptions sent on this connection that the server has not answered yet. */
  private readonly unconfirmed = new Set<string>();
  private readonly outbox: ClientAction[] = [];
  /** Messages sent on this connection whose `message.created` has not come back yet. */
  private readonly unacknowledged = new Map<string, SendMessage>();
  private readonly typing = new Map<string, TypingThrottle>();
  /** Set when the server refused the token: the next connection refreshes it first. */
  private tokenRejected = false;
  /** Consecutive `unauthorized` answers, for the backoff should a fresh token fail too. */
  private rejections = 0;
  private resubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly eventListeners = new Set<Listener<ServerEvent>>();
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly backoff: BackoffOptions;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly random: () => number;
  private readonly typingIntervalMs: number;
  private readonly rateLimitRetryMs: number;

  constructor(
    private readonly url: string,
    private readonly tokens: TokenSource,
    options: RealtimeOptions = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.WebSocketImpl = options.WebSocketImpl ?? WebSocket;
    this.random = options.random ?? Math.random;
    this.typingIntervalMs = options.typingIntervalMs ?? TYPING_INTERVAL_MS;
    this.rateLimitRetryMs = options.rateLimitRetryMs ?? RATE_LIMIT_RETRY_MS;
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
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = null;
    for (const throttle of this.typing.values()) throttle.cancel();
    this.typing.clear();
    this.unacknowledged.clear();
    this.unconfirmed.clear();
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
    this.abandon(this.socket, 4000, "offline");
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
   * typing signals, which are only worth sending now (and at most one per room per interval). */
  send(action: ClientAction): void {
    if (action.action === "typing") {
      const { conversationId } = action;
      let throttle = this.typing.get(conversationId);
      if (!throttle) {
        throttle = new TypingThrottle(this.typingIntervalMs, (isTyping) => this.sendNow({ action: "typing", conversationId, isTyping }));
        this.typing.set(conversationId, throttle);
      }
      throttle.offer(action.isTyping);
    } else if (this.state === "open" && this.socket) {
      this.transmit(this.socket, action);
    } else {
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
    if (this.state === "open" && this.socket) this.transmit(this.socket, action);
  }

  /** Sends on `socket`, remembering what must be sent again should the connection end first. */
  private transmit(socket: WebSocket, action: ClientAction): void {
    if (action.action === "sendMessage") this.unacknowledged.set(action.clientMessageId, action);
    if (action.action === "subscribe") this.unconfirmed.add(action.conversationId);
    socket.send(JSON.stringify(action));
  }

  /**
   * A token for a new connection. After two failed attempts the token may be the problem (the
   * browser cannot see a 401 on the handshake), and after `unauthorized` it is: refresh it. A
   * token that expires within a minute is refreshed too, so no connection starts already dying.
   */
  private async currentToken(): Promise<string> {
    const force = this.attempt >= 2 || this.tokenRejected;
    const token = await this.tokens.getToken(force);
    if (force) return token;
    const exp = tokenExpiry(token);
    return exp !== null && exp - Date.now() / 1000 < MIN_TOKEN_LIFETIME_S ? this.tokens.getToken(true) : token;
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let token: string;
    try {
      token = await this.currentToken();
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
      this.tokenRejected = false;
      this.setState("open");
      for (const conversationId of this.subscriptions) this.transmit(socket, { action: "subscribe", conversationId });
      for (const action of this.outbox.splice(0)) this.transmit(socket, action);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket || typeof message.data !== "string") return;
      let event: ServerEvent;
      try {
        event = JSON.parse(message.data) as ServerEvent;
      } catch {
        return;
      }
      if (!event || typeof event !== "object" || typeof event.type !== "string") return;
      if (!this.track(socket, event)) return;
      for (const listener of this.eventListeners) listener(event);
    };
    // A failed connection reports an error, then a close: the close schedules the retry.
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.abandon(socket);
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  /** Keeps the client's own books on an incoming event; false when the app need not see it. */
  private track(socket: WebSocket, event: ServerEvent): boolean {
    if (event.type === "message.created" && event.message?.clientMessageId) {
      this.unacknowledged.delete(event.message.clientMessageId);
    }
    if (event.type === "subscribed") this.unconfirmed.delete(event.conversationId);
    if (event.type !== "error") {
      this.rejections = 0;
      return true;
    }
    const code = errorCode(event);
    if (code === "unauthorized") {
      // The token expired (or was revoked) while connected: nothing was done, and the server
      // closes the connection. Connect again with a fresh token; what was refused is resent.
      this.tokenRejected = true;
      this.rejections += 1;
      this.abandon(socket, 4001, "token expired");
      this.scheduleReconnect(this.rejections - 1);
      return false;
    }
    if (event.action === "sendMessage") {
      // Refused (the app marks its last pending message, or hands it back): not sent again.
      const last = [...this.unacknowledged.keys()].at(-1);
      if (last !== undefined) this.unacknowledged.delete(last);
    }
    if (code === "rate_limited" && event.action === "subscribe") this.scheduleResubscribe();
    return true;
  }

  /** Stops using `socket`; messages it did not get acknowledged wait for the next connection. */
  private abandon(socket: WebSocket, code?: number, reason?: string): void {
    if (this.socket === socket) this.socket = null;
    if (code !== undefined) socket.close(code, reason);
    this.outbox.unshift(...this.unacknowledged.values());
    this.unacknowledged.clear();
    this.unconfirmed.clear();
  }

  private scheduleResubscribe(): void {
    if (this.resubscribeTimer) return;
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = null;
      for (const conversationId of this.unconfirmed) {
        if (this.subscriptions.has(conversationId)) this.sendNow({ action: "subscribe", conversationId });
      }
    }, this.rateLimitRetryMs);
  }

  private scheduleReconnect(attempt = this.attempt): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.setState("reconnecting");
    const delay = backoffDelay(attempt, this.backoff, this.random);
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
