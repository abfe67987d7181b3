import { useEffect, useRef } from "react";
import type { MutableRefObject, RefObject } from "react";

import type { ChatController } from "@/features/chat/hooks/useChat";
import { useRoute } from "@/lib/router";

/** Older pages loaded at most while looking for a search result's message (100 messages each). */
const MAX_PAGES = 50;

/**
 * Opens the conversation at the message the route names (`#/c/<id>/m/<message>`, a search
 * result): older pages load until it is there, then it is scrolled to the middle, marked and
 * focused, so a screen reader reads it next. The log stops following the bottom meanwhile.
 */
export function useJumpToMessage(
  chat: ChatController,
  scrollerRef: RefObject<HTMLDivElement | null>,
  pinnedRef: MutableRefObject<boolean>,
): void {
  const route = useRoute();
  const target = route.name === "conversation" ? route.message : undefined;
  const done = useRef<string | null>(null);
  const pages = useRef(0);
  const { history, messages } = chat;

  useEffect(() => {
    if (!target || done.current === target) return;
    pinnedRef.current = false;
    const element = scrollerRef.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(target)}"]`);
    if (element) {
      done.current = target;
      element.classList.add("search-target");
      element.setAttribute("tabindex", "-1");
      element.scrollIntoView?.({ block: "center" });
      element.focus({ preventScroll: true });
      return;
    }
    if (messages.some((message) => message.id === target)) return; // rendered on the next pass
    if (history.hasNextPage && !history.isFetchingNextPage && pages.current < MAX_PAGES) {
      pages.current += 1;
      void history.fetchNextPage();
    } else if (history.isSuccess && !history.hasNextPage) {
      done.current = target; // no longer there (deleted): the conversation stays open as usual
    }
  }, [target, messages, history, scrollerRef, pinnedRef]);
}
