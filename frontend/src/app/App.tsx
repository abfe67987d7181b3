import { useEffect, useMemo, useState } from "react";

import { AppShell } from "@/app/AppShell";
import { Spinner } from "@/components/ui/Spinner";
import { ConfigError, loadConfig } from "@/config/config";
import type { AppConfig } from "@/config/config";
import { AuthError, CognitoAuth } from "@/features/auth/api/cognito";
import { AuthScreen } from "@/features/auth/components/AuthScreen";
import { AuthProvider, useAuth } from "@/features/auth/hooks/useAuth";

type Boot = { status: "loading" } | { status: "ready"; config: AppConfig } | { status: "failed"; problems: string[] };

/** Start-up: validate config.json first, so a bad deployment says what is wrong instead of failing later. */
export function App({ configLoader = loadConfig }: { configLoader?: () => Promise<AppConfig> }) {
  const [boot, setBoot] = useState<Boot>({ status: "loading" });
  const [loader] = useState(() => configLoader);
  useEffect(() => {
    loader().then(
      (config) => setBoot({ status: "ready", config }),
      (error: unknown) =>
        setBoot({ status: "failed", problems: error instanceof ConfigError ? error.problems : ["config.json could not be read"] }),
    );
  }, [loader]);
  if (boot.status === "loading") return <Spinner label="Starting Parley" />;
  if (boot.status === "failed") return <ConfigProblem problems={boot.problems} />;
  return <Configured config={boot.config} />;
}

function Configured({ config }: { config: AppConfig }) {
  const auth = useMemo(() => new CognitoAuth(config.cognito), [config]);
  return (
    <AuthProvider auth={auth}>
      <Gate config={config} />
    </AuthProvider>
  );
}

function Gate({ config }: { config: AppConfig }) {
  const { auth, state, signOut } = useAuth();
  // A session that can no longer be refreshed (revoked, expired) ends here: back to sign-in.
  const tokens = useMemo(
    () => ({
      getToken: (force?: boolean) =>
        auth.getToken(force).catch((error: unknown) => {
          if (error instanceof AuthError && (error.code === "SessionExpired" || error.code === "NoSession")) signOut();
          throw error;
        }),
    }),
    [auth, signOut],
  );
  if (state.status === "loading") return <Spinner label="Restoring your session" />;
  if (state.status === "signedOut") return <AuthScreen />;
  return <AppShell key={state.user.id} config={config} tokens={tokens} user={state.user} onSignOut={signOut} />;
}

function ConfigProblem({ problems }: { problems: string[] }) {
  return (
    <main className="auth-page">
      <div className="auth-card" role="alert">
        <h1>Parley is not configured correctly</h1>
        <p>The app’s config.json has problems, so it cannot start:</p>
        <ul>
          {problems.map((problem) => (
            <li key={problem}>
              <code>{problem}</code>
            </li>
          ))}
        </ul>
      </div>
    </main>
  );
}
