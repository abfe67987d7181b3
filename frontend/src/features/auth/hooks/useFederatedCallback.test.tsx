import { renderHook, waitFor } from "@testing-library/react";

import { parseConfig } from "@/config/config";
import { PENDING_KEY } from "@/features/auth/federation";
import { useFederatedCallback } from "@/features/auth/hooks/useFederatedCallback";

const config = parseConfig({
  region: "eu-west-1",
  cognito: { userPoolId: "eu-west-1_AbC123", clientId: "client-1" },
  httpApiUrl: "https://api.example.com",
  wsUrl: "wss://ws.example.com",
  oauth: { domain: "https://auth.example.com", providers: [{ name: "corp", label: "Corp" }] },
});

describe("useFederatedCallback", () => {
  afterEach(() => {
    window.history.replaceState(null, "", "/");
    sessionStorage.clear();
  });

  it("leaves an ordinary load alone", () => {
    const { result } = renderHook(() => useFederatedCallback(config));
    expect(result.current).toEqual({ finishing: false, error: null });
  });

  it("takes Cognito's answer out of the address bar and explains a refusal", async () => {
    sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state: "mine", nonce: "n", verifier: "v", provider: "corp", redirectUri: "http://localhost:3000/", createdAt: Date.now() }));
    window.history.replaceState(null, "", "/?error=access_denied&state=mine#/c/abc");
    const { result } = renderHook(() => useFederatedCallback(config));
    expect(result.current.finishing).toBe(true);
    await waitFor(() => expect(result.current.finishing).toBe(false));
    expect(result.current.error).toMatch(/cancelled, or the identity provider refused it/);
    expect(window.location.search).toBe("");
    expect(window.location.hash).toBe("#/c/abc");
    expect(sessionStorage.getItem(PENDING_KEY)).toBeNull();
  });

  it("ignores an answer where no provider is configured", () => {
    window.history.replaceState(null, "", "/?code=c&state=s");
    const { result } = renderHook(() => useFederatedCallback({ ...config, oauth: null }));
    expect(result.current).toEqual({ finishing: false, error: null });
  });
});
