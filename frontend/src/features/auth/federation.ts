import type { AppConfig, OAuthConfig } from "@/config/config";
import { signUpRefusal } from "@/features/auth/refusal";

/**
 * Federated sign-in: the authorization code flow with PKCE against the pool's hosted endpoints,
 * completed by the app itself.
 *
 * `start` makes a fresh code verifier (S256 challenge), `state` and `nonce` for this attempt,
 * keeps them in sessionStorage (this tab only) and sends the browser to `/oauth2/authorize` with
 * the provider named. Cognito comes back to the app's root with `?code&state` (or `?error`);
 * `complete` takes the attempt out of storage (each one is used once), checks `state`, exchanges
 * the code with the verifier at `/oauth2/token`, checks the ID token's `nonce`, `aud`, `iss`
 * and expiry, and stores the tokens where amazon-cognito-identity-js keeps its own, so refresh,
 * the API's tokens and sign-out work as after a password sign-in. The tokens come straight from
 * the token endpoint over TLS, so their signature is left to the API, which verifies every token.
 */

export const PENDING_KEY = "parley.oauth.pending";
/** Set while the stored session came from an identity provider: sign-out ends the hosted session too. */
export const FEDERATED_KEY = "parley.oauth.federated";
/** How long an attempt may take from the button to the callback. */
export const ATTEMPT_TTL_MS = 10 * 60 * 1000;
export const SCOPES = "openid email profile";

export interface PendingAttempt {
  state: string;
  nonce: string;
  verifier: string;
  provider: string;
  redirectUri: string;
  createdAt: number;
}

/** Why a federated sign-in did not complete; `message` is for the sign-in page. */
export class FederationError extends Error {
  constructor(
    readonly code: "access_denied" | "provider_error" | "no_attempt" | "state_mismatch" | "code_rejected" | "token_invalid" | "nonce_mismatch" | "network",
    message: string,
  ) {
    super(message);
    this.name = "FederationError";
  }
}

const MESSAGES: Record<FederationError["code"], string> = {
  access_denied: "Sign-in was cancelled, or the identity provider refused it. Try again, or sign in with your email.",
  provider_error: "The identity provider could not sign you in. Try again in a moment.",
  no_attempt: "This sign-in was not started in this tab, or has already been completed. Start it again.",
  state_mismatch: "This sign-in answer does not belong to the sign-in started here, so it was refused. Start it again.",
  code_rejected: "The sign-in took too long or was already used. Start it again.",
  token_invalid: "The sign-in service answered with a token for another app, so it was refused. Start it again.",
  nonce_mismatch: "The sign-in answer was not issued for this attempt, so it was refused. Start it again.",
  network: "Cannot reach the sign-in service. Check your connection and try again.",
};

function fail(code: FederationError["code"]): never {
  throw new FederationError(code, MESSAGES[code]);
}

export function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `bytes` random bytes from the platform's CSPRNG, base64url (32 bytes: 43 characters). */
export function randomToken(bytes = 32): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return base64url(buffer);
}

/** RFC 7636's S256 challenge of a code verifier. */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** Where Cognito sends the browser back: the app's root (the app routes by #hash). */
export function redirectUri(origin: string = window.location.origin): string {
  return `${origin}/`;
}

/** Starts a sign-in with `provider`: stores this attempt and answers the authorize URL to open. */
export async function startFederatedSignIn(
  config: Pick<AppConfig, "cognito"> & { oauth: OAuthConfig },
  provider: string,
  { storage = window.sessionStorage, origin = window.location.origin, now = Date.now() }: { storage?: Storage; origin?: string; now?: number } = {},
): Promise<string> {
  const attempt: PendingAttempt = {
    state: randomToken(),
    nonce: randomToken(),
    verifier: randomToken(48),
    provider,
    redirectUri: redirectUri(origin),
    createdAt: now,
  };
  storage.setItem(PENDING_KEY, JSON.stringify(attempt));
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.cognito.clientId,
    redirect_uri: attempt.redirectUri,
    identity_provider: provider,
    scope: SCOPES,
    state: attempt.state,
    nonce: attempt.nonce,
    code_challenge: await codeChallenge(attempt.verifier),
    code_challenge_method: "S256",
  });
  return `${config.oauth.domain}/oauth2/authorize?${query.toString()}`;
}

/** Whether the page was opened by Cognito's answer to an authorize request. */
export function isFederatedCallback(search: string): boolean {
  const params = new URLSearchParams(search);
  return params.has("state") && (params.has("code") || params.has("error"));
}

export interface TokenSet {
  idToken: string;
  accessToken: string;
  refreshToken: string;
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) fail("token_invalid");
  try {
    const padded = part.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (part.length % 4)) % 4);
    const json = new TextDecoder().decode(Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)));
    const payload: unknown = JSON.parse(json);
    if (typeof payload !== "object" || payload === null) fail("token_invalid");
    return payload as Record<string, unknown>;
  } catch (error) {
    if (error instanceof FederationError) throw error;
    fail("token_invalid");
  }
}

/** The ID token's checks: issued by this pool, for this app client, for this attempt, not expired. */
export function checkIdToken(idToken: string, config: Pick<AppConfig, "region" | "cognito">, nonce: string, now: number): Record<string, unknown> {
  const claims = decodeJwtPayload(idToken);
  const region = config.cognito.userPoolId.split("_")[0];
  const issuer = `https://cognito-idp.${region}.amazonaws.com/${config.cognito.userPoolId}`;
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== issuer || !audience.includes(config.cognito.clientId) || claims.token_use !== "id") fail("token_invalid");
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= now) fail("code_rejected");
  if (typeof claims.nonce !== "string" || claims.nonce !== nonce) fail("nonce_mismatch");
  return claims;
}

/**
 * Completes the sign-in Cognito answered with `search` (the callback's query): each rejection
 * is a FederationError with the sign-in page's message. The attempt is forgotten whatever
 * happens, so a copied or replayed callback URL finds none.
 */
export async function completeFederatedSignIn(
  search: string,
  config: Pick<AppConfig, "region" | "cognito"> & { oauth: OAuthConfig },
  { storage = window.sessionStorage, fetchImpl = fetch, now = Date.now() }: { storage?: Storage; fetchImpl?: typeof fetch; now?: number } = {},
): Promise<{ tokens: TokenSet; claims: Record<string, unknown> }> {
  const params = new URLSearchParams(search);
  const raw = storage.getItem(PENDING_KEY);
  storage.removeItem(PENDING_KEY);
  let attempt: PendingAttempt | null;
  try {
    attempt = raw ? (JSON.parse(raw) as PendingAttempt) : null;
  } catch {
    attempt = null;
  }
  if (!attempt || typeof attempt.state !== "string" || now - attempt.createdAt > ATTEMPT_TTL_MS) fail("no_attempt");
  if (params.get("state") !== attempt.state) fail("state_mismatch");
  const error = params.get("error");
  if (error) {
    // The environment refused the provider's user (the pre-sign-up trigger): say why.
    const refusal = signUpRefusal(params.get("error_description"));
    if (refusal) throw new FederationError("access_denied", refusal);
    fail(error === "access_denied" ? "access_denied" : "provider_error");
  }
  const code = params.get("code");
  if (!code) fail("provider_error");

  let response: Response;
  try {
    response = await fetchImpl(`${config.oauth.domain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: config.cognito.clientId,
        code,
        redirect_uri: attempt.redirectUri,
        code_verifier: attempt.verifier,
      }).toString(),
    });
  } catch {
    fail("network");
  }
  if (!response.ok) fail(response.status >= 500 ? "provider_error" : "code_rejected");
  const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; access_token?: unknown; refresh_token?: unknown };
  if (typeof body.id_token !== "string" || typeof body.access_token !== "string" || typeof body.refresh_token !== "string") fail("token_invalid");
  const claims = checkIdToken(body.id_token, config, attempt.nonce, now);
  return { tokens: { idToken: body.id_token, accessToken: body.access_token, refreshToken: body.refresh_token }, claims };
}

/**
 * Stores a session as amazon-cognito-identity-js does after its own sign-in
 * (`CognitoIdentityServiceProvider.<client>.<username>.*` and `.LastAuthUser`), so the pool
 * object finds it, refreshes it and signs it out.
 */
export function storeSession(
  clientId: string,
  tokens: TokenSet,
  claims: Record<string, unknown>,
  { storage = window.localStorage, now = Date.now() }: { storage?: Storage; now?: number } = {},
): void {
  const username = String(claims["cognito:username"] ?? claims.sub ?? "");
  if (!username) fail("token_invalid");
  const prefix = `CognitoIdentityServiceProvider.${clientId}`;
  const user = `${prefix}.${username}`;
  const issuedAt = typeof claims.iat === "number" ? claims.iat : Math.floor(now / 1000);
  storage.setItem(`${user}.idToken`, tokens.idToken);
  storage.setItem(`${user}.accessToken`, tokens.accessToken);
  storage.setItem(`${user}.refreshToken`, tokens.refreshToken);
  // The library's clock drift: this browser's clock minus the token's issue time, in seconds.
  storage.setItem(`${user}.clockDrift`, String(Math.floor(now / 1000) - issuedAt));
  storage.setItem(`${prefix}.LastAuthUser`, username);
  storage.setItem(FEDERATED_KEY, "1");
}

/**
 * After the local sign-out of a federated session: the hosted `/logout` URL that ends
 * Cognito's own session and comes back to the app, or null for a password session.
 */
export function hostedLogoutUrl(
  config: Pick<AppConfig, "cognito" | "oauth">,
  { storage = window.localStorage, origin = window.location.origin }: { storage?: Storage; origin?: string } = {},
): string | null {
  const federated = storage.getItem(FEDERATED_KEY) === "1";
  storage.removeItem(FEDERATED_KEY);
  if (!federated || !config.oauth) return null;
  const query = new URLSearchParams({ client_id: config.cognito.clientId, logout_uri: redirectUri(origin) });
  return `${config.oauth.domain}/logout?${query.toString()}`;
}
