import { useSyncExternalStore } from "react";

/**
 * Hash routes (`#/c/<id>`, `#/new` for a chat not started yet), so any static host serves the
 * app without rewrite rules and a reload keeps the open conversation.
 */
/** `message`: a message to open the conversation at (a search result). */
export type Route =
  | { name: "home" }
  | { name: "new" }
  /** The user's assistants (`#/assistants`). */
  | { name: "assistants" }
  | { name: "conversation"; id: string; message?: string }
  /** The admin console (`#/admin`, `#/admin/totals`, `#/admin/audit`, `#/admin/u/<id>`). */
  | { name: "admin"; view: AdminView; id?: string };

export type AdminView = "users" | "user" | "totals" | "audit";

export function parseRoute(hash: string): Route {
  if (hash === "#/new") return { name: "new" };
  if (hash === "#/assistants") return { name: "assistants" };
  const admin = /^#\/admin(?:\/(totals|audit|u\/([0-9A-Za-z-]{1,128})))?\/?$/.exec(hash);
  if (admin) {
    if (admin[2]) return { name: "admin", view: "user", id: admin[2] };
    return { name: "admin", view: (admin[1] as AdminView | undefined) ?? "users" };
  }
  const match = /^#\/c\/([0-9A-Za-z_-]{1,64})(?:\/m\/([0-9A-Za-z_-]{1,64}))?$/.exec(hash);
  if (!match) return { name: "home" };
  return match[2] ? { name: "conversation", id: match[1]!, message: match[2] } : { name: "conversation", id: match[1]! };
}

export function hrefFor(route: Route): string {
  if (route.name === "new") return "#/new";
  if (route.name === "assistants") return "#/assistants";
  if (route.name === "admin") {
    if (route.view === "user" && route.id) return `#/admin/u/${route.id}`;
    return route.view === "users" || route.view === "user" ? "#/admin" : `#/admin/${route.view}`;
  }
  if (route.name === "conversation" && route.message) return `#/c/${route.id}/m/${route.message}`;
  return route.name === "conversation" ? `#/c/${route.id}` : "#/";
}

export function navigate(route: Route): void {
  window.location.hash = hrefFor(route);
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener("hashchange", notify);
      return () => window.removeEventListener("hashchange", notify);
    },
    () => window.location.hash,
  );
  return parseRoute(hash);
}

/**
 * A shared conversation's public page, `#/s/<share id>`: outside the signed-in routes, shown
 * signed out without touching Cognito (`App`). A hash route, so the id never reaches a server
 * log or another site's Referer.
 */
export function sharedLinkId(hash: string): string | null {
  const match = /^#\/s\/([A-Za-z0-9_-]{1,64})\/?$/.exec(hash);
  return match ? match[1]! : null;
}

export function useSharedLinkId(): string | null {
  const hash = useSyncExternalStore(
    (notify) => {
      window.addEventListener("hashchange", notify);
      return () => window.removeEventListener("hashchange", notify);
    },
    () => window.location.hash,
  );
  return sharedLinkId(hash);
}
