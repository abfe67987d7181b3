import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";

import type { CognitoAuth, SignedInUser } from "@/features/auth/api/cognito";

type AuthState = { status: "loading" } | { status: "signedOut" } | { status: "signedIn"; user: SignedInUser };

interface AuthContextValue {
  auth: CognitoAuth;
  state: AuthState;
  setUser: (user: SignedInUser) => void;
  signOut: () => void;
}

const AuthContext = createContext<AuthContextValue | null>(null);

/** Restores the stored session at start-up (refreshing it if needed) and tracks sign-in/out. */
/**
 * `hostedLogout`: after the local sign-out, the hosted session's `/logout` URL to leave for (a
 * federated session, `federation.ts`), or null to stay.
 */
export function AuthProvider({ auth, children, hostedLogout }: { auth: CognitoAuth; children: ReactNode; hostedLogout?: () => string | null }) {
  const [state, setState] = useState<AuthState>({ status: "loading" });
  useEffect(() => {
    let live = true;
    void auth.currentUser().then((user) => {
      if (live) setState(user ? { status: "signedIn", user } : { status: "signedOut" });
    });
    return () => {
      live = false;
    };
  }, [auth]);
  const setUser = useCallback((user: SignedInUser) => setState({ status: "signedIn", user }), []);
  const signOut = useCallback(() => {
    setState({ status: "loading" });
    void auth.signOut().then(() => {
      const logout = hostedLogout?.() ?? null;
      if (logout) window.location.assign(logout);
      else setState({ status: "signedOut" });
    });
  }, [auth, hostedLogout]);
  const value = useMemo(() => ({ auth, state, setUser, signOut }), [auth, state, setUser, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthContextValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth must be used inside AuthProvider");
  return value;
}
