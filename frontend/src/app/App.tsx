import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { AppShell } from "@/app/AppShell";
import { SharedPage } from "@/app/SharedPage";
import { Spinner } from "@/components/ui/Spinner";
import { ConfigError, loadConfig } from "@/config/config";
import type { AppConfig } from "@/config/config";
import { AuthError, CognitoAuth } from "@/features/auth/api/cognito";
import { AuthScreen } from "@/features/auth/components/AuthScreen";
import { hostedLogoutUrl, startFederatedSignIn } from "@/features/auth/federation";
import { AuthProvider, useAuth } from "@/features/auth/hooks/useAuth";
import { useFederatedCallback } from "@/features/auth/hooks/useFederatedCallback";
import { useSharedLinkId } from "@/lib/router";

type Boot = { status: "loading" } | { status: "ready"; config: AppConfig } | { status: "failed"; problems: string[] };

/** Start-up: validate config.json first, so a bad deployment says what is wrong instead of failing later. */
/** What the sign-in screen says when a tab's session has gone away under it. */
export const SESSION_ENDED = "Your session has ended, so you were signed out. Sign in again to continue.";
export const SESSION_GONE =
  "Your session no longer exists: the sign-in service was reset. Sign in again, or create your account again.";
export const LOCAL_SESSION_GONE =
  "Your session no longer exists: the local stack started with clean data (invoke dev --fresh). Create your account again, or sign in as the demo user.";

/** Start-up: validate config.json first, so a bad deployment says what is wrong instead of failing later. */
export function App({ configLoader = loadConfig }: { configLoader?: () => Promise<AppConfig> }) {
  const [boot, setBoot] = useState<Boot>({ status: "loading" });
  const [loader] = useState(() => configLoader);
  // A session that ended under an open tab starts the app again: config.json may have changed.
  const [restart, setRestart] = useState<{ count: number; notice: string | null }>({ count: 0, notice: null });
  // A share link's page (`#/s/<id>`) is public: shown signed out, before anything reads a session.
  const sharedId = useSharedLinkId();
  useEffect(() => {
    loader().then(
      (config) => setBoot({ status: "ready", config }),
      (error: unknown) =>
        setBoot({ status: "failed", problems: error instanceof ConfigError ? error.problems : ["config.json could not be read"] }),
    );
  }, [loader, restart.count]);
  const onSessionEnded = useCallback((notice: string) => {
    setBoot({ status: "loading" });
    setRestart((current) => ({ count: current.count + 1, notice }));
  }, []);
  if (boot.status === "loading") return <Spinner label="Starting Parley" />;
  if (boot.status === "failed") return <ConfigProblem problems={boot.problems} />;
  if (sharedId) return <SharedPage config={boot.config} shareId={sharedId} />;
  return <Configured key={restart.count} config={boot.config} notice={restart.notice} onSessionEnded={onSessionEnded} />;
}

function Configured({ config, notice, onSessionEnded }: { config: AppConfig; notice: string | null; onSessionEnded: (notice: string) => void }) {
  const auth = useMemo(() => new CognitoAuth(config.cognito, undefined, config.passwordPolicy), [config]);
  // Before the stored session is read: one kept for another app client means the pool was reset.
  const [gone] = useState(() => auth.forgetOtherSessions());
  const startNotice = notice ?? (gone ? (config.local ? LOCAL_SESSION_GONE : SESSION_GONE) : null);
  // Back from an identity provider (`?code&state`): the sign-in completes before the session is read.
  const callback = useFederatedCallback(config);
  const hostedLogout = useCallback(() => hostedLogoutUrl(config), [config]);
  if (callback.finishing) return <Spinner label="Finishing sign-in" />;
  return (
    <AuthProvider auth={auth} hostedLogout={hostedLogout}>
      <Gate config={config} notice={startNotice} signInError={callback.error} onSessionEnded={onSessionEnded} />
    </AuthProvider>
  );
}

function Gate({
  config,
  notice,
  signInError = null,
  onSessionEnded,
}: {
  config: AppConfig;
  notice: string | null;
  signInError?: string | null;
  onSessionEnded: (notice: string) => void;
}) {
  const { auth, state, signOut } = useAuth();
  const ended = useRef(false);
  // A session that can no longer be refreshed (revoked, expired, its pool gone) ends here, once:
  // it is forgotten, then the app starts again at sign-in (with config.json read again), saying why.
  const tokens = useMemo(
    () => ({
      getToken: (force?: boolean) =>
        auth.getToken(force).catch((error: unknown) => {
          if (error instanceof AuthError && (error.code === "SessionExpired" || error.code === "NoSession") && !ended.current) {
            ended.current = true;
            void auth.signOut().finally(() => onSessionEnded(SESSION_ENDED));
          }
          throw error;
        }),
    }),
    [auth, onSessionEnded],
  );
  if (state.status === "loading") return <Spinner label="Restoring your session" />;
  if (state.status === "signedOut") {
    const oauth = config.oauth;
    return (
      <AuthScreen
        notice={notice}
        error={signInError}
        passwordPolicy={config.passwordPolicy}
        mailboxUrl={config.local?.mailboxUrl ?? null}
        providers={oauth?.providers ?? []}
        onFederatedSignIn={oauth ? async (provider) => window.location.assign(await startFederatedSignIn({ ...config, oauth }, provider)) : undefined}
      />
    );
  }
  return <AppShell key={state.user.id} config={config} tokens={tokens} user={state.user} onSignOut={signOut} account={auth} />;
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
