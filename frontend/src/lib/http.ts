import type { ApiErrorBody } from "@/types/api";

/** An HTTP API answer other than 2xx, carrying the API's error code for the UI to act on. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface TokenSource {
  /** A valid token, refreshed when it is about to expire; `force` refreshes regardless. */
  getToken(force?: boolean): Promise<string>;
}

type Query = Record<string, string | number | null | undefined>;

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

const FRIENDLY: Record<number, string> = {
  0: "Cannot reach the server. Check your connection and try again.",
  401: "Your session has expired. Please sign in again.",
  403: "You do not have access to this.",
  404: "Not found.",
  429: "You have reached your daily limit.",
  500: "Something went wrong on our side.",
};

/**
 * The one HTTP client of the app: adds the bearer token, retries once with a refreshed token
 * on 401 (a token can expire between the check and the call), and turns error bodies into
 * ApiError with a message fit to show.
 */
export class HttpClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenSource,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    let response = await this.send(path, options, false);
    if (response.status === 401) response = await this.send(path, options, true);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    const data: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) throw toApiError(response, data);
    return data as T;
  }

  private async send(path: string, options: RequestOptions, forceRefresh: boolean): Promise<Response> {
    const token = await this.tokens.getToken(forceRefresh);
    const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.fetchImpl(this.url(path, options.query), {
        method: options.method ?? "GET",
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(0, "network_error", FRIENDLY[0]!);
    }
  }

  private url(path: string, query?: Query): string {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== null && value !== undefined && value !== "") url.searchParams.set(key, String(value));
    }
    return url.toString();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toApiError(response: Response, data: unknown): ApiError {
  const body = (data as Partial<ApiErrorBody> | undefined)?.error;
  const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  const fallback = FRIENDLY[response.status] ?? (response.status >= 500 ? FRIENDLY[500]! : "Request failed.");
  const message =
    typeof body?.message === "string" && body.message && response.status < 500 ? body.message : fallback;
  return new ApiError(response.status, body?.code ?? `http_${response.status}`, message, body?.requestId, retryAfter);
}
