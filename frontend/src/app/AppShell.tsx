import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useMemo, useState } from "react";

import { ConversationPage } from "@/app/ConversationPage";
import { NewChatPage } from "@/app/NewChatPage";
import { useMe } from "@/app/useMe";
import { ConnectionBadge } from "@/components/ui/ConnectionBadge";
import { Icon } from "@/components/ui/Icon";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import type { AppConfig, MfaMode } from "@/config/config";
import { AccountMenu } from "@/features/account/components/AccountMenu";
import { AdminConsole } from "@/features/admin/components/AdminConsole";
import { AssistantsPage } from "@/features/assistants/components/AssistantsPage";
import type { TwoStepAccount } from "@/features/auth/api/cognito";
import { ConversationSidebar } from "@/features/conversations/components/ConversationSidebar";
import { useConversationEvents } from "@/features/conversations/hooks/useConversationEvents";
import { HttpClient } from "@/lib/http";
import type { TokenSource } from "@/lib/http";
import { RealtimeClient } from "@/lib/realtime";
import { RealtimeProvider, useConnectionState } from "@/lib/realtime-context";
import { useRoute } from "@/lib/router";
import { SessionContext } from "@/lib/session";

export interface ShellUser {
  id: string;
  email: string;
  name: string;
  /** From the ID token: an admin sees the admin console's link (the API checks every call). */
  role?: "admin" | "member";
}

/** The signed-in app: one HTTP client, one WebSocket and one query cache per user. */
export function AppShell({
  config,
  tokens,
  user,
  onSignOut,
  account,
}: {
  config: AppConfig;
  tokens: TokenSource;
  user: ShellUser;
  onSignOut: () => void;
  /** Two-step verification of the signed-in account (the account menu). */
  account?: TwoStepAccount;
}) {
  const http = useMemo(() => new HttpClient(config.httpApiUrl, tokens), [config, tokens]);
  const realtime = useMemo(() => new RealtimeClient(config.wsUrl, tokens), [config, tokens]);
  const queryClient = useMemo(
    () => new QueryClient({ defaultOptions: { queries: { refetchOnWindowFocus: false, retry: 1 } } }),
    [],
  );
  const session = useMemo(
    () => ({ userId: user.id, email: user.email, name: user.name, http, demoModel: config.local?.demoModel ?? null }),
    [user, http, config],
  );
  return (
    <QueryClientProvider client={queryClient}>
      <SessionContext.Provider value={session}>
        <RealtimeProvider client={realtime}>
          <Layout user={user} onSignOut={onSignOut} twoStep={account ? { mode: config.mfa, account } : undefined} />
        </RealtimeProvider>
      </SessionContext.Provider>
    </QueryClientProvider>
  );
}

function Layout({
  user,
  onSignOut,
  twoStep,
}: {
  user: ShellUser;
  onSignOut: () => void;
  twoStep: { mode: MfaMode; account: TwoStepAccount } | undefined;
}) {
  const route = useRoute();
  const connection = useConnectionState();
  const [menuOpen, setMenuOpen] = useState(false);
  const me = useMe();
  useConversationEvents();
  // The name in the token at once; without one, the profile's once /me answers (null until then):
  // never the e-mail's local part first and then the real name under the reader's eyes.
  const localPart = user.email.split("@")[0] ?? "";
  const name = me.data ? me.data.name || user.name || localPart : user.name || (me.isError ? localPart : null);
  const activeId = route.name === "conversation" ? route.id : null;
  const isAdmin = user.role === "admin";
  return (
    <div className={`shell ${menuOpen ? "menu-open" : ""}`}>
      <a className="skip-link" href="#main">
        Skip to conversation
      </a>
      <header className="topbar">
        <button
          type="button"
          className="btn btn-ghost icon-btn menu-toggle"
          aria-label={menuOpen ? "Close conversation list" : "Open conversation list"}
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((open) => !open)}
        >
          <Icon name="menu" />
        </button>
        <span className="brand">Parley</span>
        <ConnectionBadge state={connection} />
        <span className="topbar-spacer" />
        <ThemeToggle />
        <AccountMenu label={name === null ? "" : name || user.email} email={user.email} activity={me.data?.activity} twoStep={twoStep} admin={isAdmin} />
        <button type="button" className="btn btn-ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div id="sidebar" className="sidebar-wrap">
        <ConversationSidebar activeId={activeId} onNavigate={() => setMenuOpen(false)} />
      </div>
      {menuOpen && <div className="scrim" aria-hidden="true" onClick={() => setMenuOpen(false)} />}
      <main id="main" className="main" tabIndex={-1}>
        {activeId ? (
          <ConversationPage key={activeId} conversationId={activeId} />
        ) : route.name === "new" ? (
          <NewChatPage />
        ) : route.name === "assistants" ? (
          <AssistantsPage />
        ) : route.name === "admin" ? (
          isAdmin ? (
            <AdminConsole view={route.view} userId={route.id} />
          ) : (
            <div className="welcome">
              <h1>Not available</h1>
              <p className="muted">The admin console is for administrators.</p>
            </div>
          )
        ) : (
          <div className="welcome">
            <h1 className={name === null ? "pending" : undefined}>Welcome{name ? `, ${name}` : ""}</h1>
            <p className="muted">Start a new chat with the assistant, or open a room to talk with others.</p>
            {me.data && me.data.usage.dailyQuota > 0 && (
              <p className="muted small">
                Today: {me.data.usage.inputTokens + me.data.usage.outputTokens} of {me.data.usage.dailyQuota} tokens used.
              </p>
            )}
          </div>
        )}
      </main>
    </div>
  );
}
