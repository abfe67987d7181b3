import { useEffect, useRef, useState } from "react";

import type { AppConfig } from "@/config/config";
import { FederationError, completeFederatedSignIn, isFederatedCallback, storeSession } from "@/features/auth/federation";

/**
 * At start-up: when Cognito sent the browser back with `?code&state` (or `?error`), completes
 * the federated sign-in before the stored session is read, then takes the answer out of the
 * address bar (a reload or a shared link never replays it). `error` is for the sign-in page.
 */
export function useFederatedCallback(config: AppConfig): { finishing: boolean; error: string | null } {
  const [finishing, setFinishing] = useState(() => config.oauth !== null && isFederatedCallback(window.location.search));
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    if (!finishing || started.current || !config.oauth) return;
    started.current = true;
    const search = window.location.search;
    window.history.replaceState(null, "", `${window.location.pathname}${window.location.hash}`);
    completeFederatedSignIn(search, { ...config, oauth: config.oauth })
      .then(({ tokens, claims }) => storeSession(config.cognito.clientId, tokens, claims))
      .catch((caught: unknown) => setError(caught instanceof FederationError ? caught.message : "The sign-in could not be completed. Start it again."))
      .finally(() => setFinishing(false));
  }, [config, finishing]);
  return { finishing, error };
}
