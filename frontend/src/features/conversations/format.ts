import type { Conversation } from "@/types/api";

export function displayTitle(conversation: Pick<Conversation, "title" | "kind">): string {
  return conversation.title.trim() || (conversation.kind === "group" ? "Untitled room" : "New chat");
}

/** Case- and accent-insensitive title search over the loaded conversations. */
export function filterConversations<T extends Pick<Conversation, "title" | "kind">>(items: T[], search: string): T[] {
  const fold = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  const needle = fold(search.trim());
  return needle ? items.filter((item) => fold(displayTitle(item)).includes(needle)) : items;
}

/** "now", "5m", "3h", "2d" or a date: compact enough for a sidebar row. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return "now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  if (seconds < 7 * 86_400) return `${Math.floor(seconds / 86_400)}d`;
  return new Date(then).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
