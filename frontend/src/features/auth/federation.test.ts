import { createHash } from "node:crypto";

import {
  ATTEMPT_TTL_MS,
  FEDERATED_KEY,
  FederationError,
  PENDING_KEY,
  codeChallenge,
  completeFederatedSignIn,
  hostedLogoutUrl,
  isFederatedCallback,
  startFederatedSignIn,
  storeSession,
} from "@/features/auth/federation";

const config = {
  region: "eu-west-1",
  cognito: { userPoolId: "eu-west-1_AbC123", clientId: "client-1", endpoint: null, authFlow: "USER_SRP_AUTH" as const },
  oauth: { domain: "https://parley-dev.auth.eu-west-1.amazoncognito.com", providers: [{ name: "corp", label: "Example Corp" }] },
};
const ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123";
const NOW = 1_800_000_000_000;

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

function jwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "RS256", kid: "k" }))}.${b64url(JSON.stringify(claims))}.signature`;
}

function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, String(value)),
  };
}

async function started(storage: Storage) {
  const url = new URL(await startFederatedSignIn(config, "corp", { storage, origin: "https://chat.example.com", now: NOW }));
  const pending = JSON.parse(storage.getItem(PENDING_KEY)!) as { state: string; nonce: string; verifier: string };
  return { url, pending };
}

function idClaims(nonce: string, overrides: Record<string, unknown> = {}) {
  return {
    iss: ISSUER,
    aud: "client-1",
    token_use: "id",
    sub: "sub-1",
    "cognito:username": "corp_abc",
    email: "ana@example.com",
    iat: NOW / 1000 - 5,
    exp: NOW / 1000 + 3600,
    nonce,
    ...overrides,
  };
}

function tokenEndpoint(answer: { status?: number; body?: unknown }, seen: { url?: string; body?: URLSearchParams } = {}) {
  return (async (url: string, init?: RequestInit) => {
    seen.url = url;
    seen.body = new URLSearchParams(String(init?.body));
    return new Response(JSON.stringify(answer.body ?? {}), { status: answer.status ?? 200 });
  }) as typeof fetch;
}

async function rejection(promise: Promise<unknown>): Promise<FederationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof FederationError) return error;
    throw error;
  }
  throw new Error("expected a FederationError");
}

describe("startFederatedSignIn", () => {
  it("sends the browser to /oauth2/authorize with the provider, PKCE S256, state and nonce", async () => {
    const storage = memoryStorage();
    const { url, pending } = await started(storage);
    expect(url.origin + url.pathname).toBe("https://parley-dev.auth.eu-west-1.amazoncognito.com/oauth2/authorize");
    const q = url.searchParams;
    expect(q.get("response_type")).toBe("code");
    expect(q.get("client_id")).toBe("client-1");
    expect(q.get("redirect_uri")).toBe("https://chat.example.com/");
    expect(q.get("identity_provider")).toBe("corp");
    expect(q.get("scope")).toBe("openid email profile");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toBe(createHash("sha256").update(pending.verifier).digest("base64url"));
    expect(q.get("state")).toBe(pending.state);
    expect(q.get("nonce")).toBe(pending.nonce);
    expect(pending.verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(pending.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("makes a new verifier, state and nonce for every attempt", async () => {
    const storage = memoryStorage();
    const first = await started(storage);
    const second = await started(storage);
    expect(second.pending.verifier).not.toBe(first.pending.verifier);
    expect(second.pending.state).not.toBe(first.pending.state);
    expect(second.pending.nonce).not.toBe(first.pending.nonce);
  });

  it("computes the S256 challenge: base64url of the verifier's SHA-256, unpadded", async () => {
    // Python: base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
    expect(await codeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r7wW1gFWFOEjXk")).toBe("bwWFMyPfdG9qreDhH2lmftFx_dFeLDalzcT1gb_j68g");
  });
});

describe("completeFederatedSignIn", () => {
  it("exchanges the code with the verifier and answers the checked tokens", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const seen: { url?: string; body?: URLSearchParams } = {};
    const idToken = jwt(idClaims(pending.nonce));
    const fetchImpl = tokenEndpoint({ body: { id_token: idToken, access_token: "a", refresh_token: "r" } }, seen);
    const result = await completeFederatedSignIn(`?code=c0de&state=${pending.state}`, config, { storage, fetchImpl, now: NOW });
    expect(result.tokens).toEqual({ idToken, accessToken: "a", refreshToken: "r" });
    expect(seen.url).toBe("https://parley-dev.auth.eu-west-1.amazoncognito.com/oauth2/token");
    expect(Object.fromEntries(seen.body!)).toEqual({
      grant_type: "authorization_code",
      client_id: "client-1",
      code: "c0de",
      redirect_uri: "https://chat.example.com/",
      code_verifier: pending.verifier,
    });
    expect(storage.getItem(PENDING_KEY)).toBeNull();
  });

  it("refuses a state that is not this attempt's, without exchanging the code", async () => {
    const storage = memoryStorage();
    await started(storage);
    const seen: { url?: string } = {};
    const error = await rejection(completeFederatedSignIn("?code=c&state=forged", config, { storage, fetchImpl: tokenEndpoint({}, seen), now: NOW }));
    expect(error.code).toBe("state_mismatch");
    expect(error.message).toMatch(/does not belong to the sign-in started here/);
    expect(seen.url).toBeUndefined();
  });

  it("refuses a callback with no attempt, and a replayed one (each attempt is used once)", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const body = { id_token: jwt(idClaims(pending.nonce)), access_token: "a", refresh_token: "r" };
    await completeFederatedSignIn(`?code=c&state=${pending.state}`, config, { storage, fetchImpl: tokenEndpoint({ body }), now: NOW });
    const replay = await rejection(completeFederatedSignIn(`?code=c&state=${pending.state}`, config, { storage, fetchImpl: tokenEndpoint({ body }), now: NOW }));
    expect(replay.code).toBe("no_attempt");
    expect((await rejection(completeFederatedSignIn("?code=c&state=x", config, { storage: memoryStorage(), now: NOW }))).code).toBe("no_attempt");
  });

  it("refuses an attempt older than its time to live", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const error = await rejection(
      completeFederatedSignIn(`?code=c&state=${pending.state}`, config, { storage, fetchImpl: tokenEndpoint({}), now: NOW + ATTEMPT_TTL_MS + 1 }),
    );
    expect(error.code).toBe("no_attempt");
  });

  it("says the person or the provider refused (error=access_denied)", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const error = await rejection(completeFederatedSignIn(`?error=access_denied&state=${pending.state}`, config, { storage, now: NOW }));
    expect(error.code).toBe("access_denied");
    expect(error.message).toMatch(/cancelled, or the identity provider refused it/);
  });

  it("reports another provider error without its description", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const error = await rejection(
      completeFederatedSignIn(`?error=server_error&error_description=Visit+evil.example&state=${pending.state}`, config, { storage, now: NOW }),
    );
    expect(error.code).toBe("provider_error");
    expect(error.message).not.toMatch(/evil/);
  });

  it("says why the environment refused the provider's user (the pre-sign-up trigger), and nothing else", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const description = encodeURIComponent("PreSignUp failed with error Sign-up is open only to addresses at example.com.");
    const error = await rejection(completeFederatedSignIn(`?error=access_denied&error_description=${description}&state=${pending.state}`, config, { storage, now: NOW }));
    expect(error.code).toBe("access_denied");
    expect(error.message).toBe("Sign-up is open only to addresses at example.com.");
    const other = await started(storage);
    const forged = await rejection(
      completeFederatedSignIn(`?error=access_denied&error_description=${description}&state=not-${other.pending.state}`, config, { storage, now: NOW }),
    );
    expect(forged.code).toBe("state_mismatch");
  });

  it("says an expired or used code must be started again (invalid_grant)", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const fetchImpl = tokenEndpoint({ status: 400, body: { error: "invalid_grant" } });
    const error = await rejection(completeFederatedSignIn(`?code=old&state=${pending.state}`, config, { storage, fetchImpl, now: NOW }));
    expect(error.code).toBe("code_rejected");
    expect(error.message).toMatch(/took too long or was already used/);
  });

  it.each([
    ["nonce_mismatch", { nonce: "another-attempt" }],
    ["nonce_mismatch", { nonce: undefined }],
    ["token_invalid", { aud: "another-client" }],
    ["token_invalid", { iss: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other" }],
    ["token_invalid", { token_use: "access" }],
    ["code_rejected", { exp: NOW / 1000 - 1 }],
  ])("refuses an ID token (%s: %o)", async (code, overrides) => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const body = { id_token: jwt(idClaims(pending.nonce, overrides)), access_token: "a", refresh_token: "r" };
    const error = await rejection(completeFederatedSignIn(`?code=c&state=${pending.state}`, config, { storage, fetchImpl: tokenEndpoint({ body }), now: NOW }));
    expect(error.code).toBe(code);
  });

  it("refuses an answer without tokens", async () => {
    const storage = memoryStorage();
    const { pending } = await started(storage);
    const error = await rejection(
      completeFederatedSignIn(`?code=c&state=${pending.state}`, config, { storage, fetchImpl: tokenEndpoint({ body: { id_token: "x" } }), now: NOW }),
    );
    expect(error.code).toBe("token_invalid");
  });
});

describe("the session", () => {
  it("is stored as amazon-cognito-identity-js stores its own", () => {
    const storage = memoryStorage();
    storeSession("client-1", { idToken: "i", accessToken: "a", refreshToken: "r" }, { "cognito:username": "corp_abc", iat: NOW / 1000 - 5 }, { storage, now: NOW });
    const prefix = "CognitoIdentityServiceProvider.client-1";
    expect(storage.getItem(`${prefix}.LastAuthUser`)).toBe("corp_abc");
    expect(storage.getItem(`${prefix}.corp_abc.idToken`)).toBe("i");
    expect(storage.getItem(`${prefix}.corp_abc.accessToken`)).toBe("a");
    expect(storage.getItem(`${prefix}.corp_abc.refreshToken`)).toBe("r");
    expect(storage.getItem(`${prefix}.corp_abc.clockDrift`)).toBe("5");
  });

  it("ends the hosted session at sign-out of a federated session only, once", () => {
    const storage = memoryStorage();
    expect(hostedLogoutUrl(config, { storage, origin: "https://chat.example.com" })).toBeNull();
    storage.setItem(FEDERATED_KEY, "1");
    const url = new URL(hostedLogoutUrl(config, { storage, origin: "https://chat.example.com" })!);
    expect(url.origin + url.pathname).toBe("https://parley-dev.auth.eu-west-1.amazoncognito.com/logout");
    expect(url.searchParams.get("client_id")).toBe("client-1");
    expect(url.searchParams.get("logout_uri")).toBe("https://chat.example.com/");
    expect(hostedLogoutUrl(config, { storage, origin: "https://chat.example.com" })).toBeNull();
  });

  it("knows Cognito's answer from an ordinary load", () => {
    expect(isFederatedCallback("?code=c&state=s")).toBe(true);
    expect(isFederatedCallback("?error=access_denied&state=s")).toBe(true);
    expect(isFederatedCallback("?code=c")).toBe(false);
    expect(isFederatedCallback("")).toBe(false);
  });
});
