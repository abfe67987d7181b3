import { useSyncExternalStore } from "react";

/**
 * Hash routes (`#/c/<id>`, `#/new` for a chat not started yet), so any static host serves the
 * app without rewrite rules and a reload keeps the open conversation.
 */
/** `message`: a message to open the conversation at (a search result). */
export type Route = { name: "home" } | { name: "new" } | { name: "conversation"; id: string; message?: string };

export function parseRoute(hash: string): Route {
  if (hash === "#/new") return { name: "new" };
  const match = /^#\/c\/([0-9A-Za-z_-]{1,64})(?:\/m\/([0-9A-Za-z_-]{1,64}))?$/.exec(hash);
  if (!match) return { name: "home" };
  return match[2] ? { name: "conversation", id: match[1]!, message: match[2] } : { name: "conversation", id: match[1]! };
}

export function hrefFor(route: Route): string {
  if (route.name === "new") return "#/new";
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
