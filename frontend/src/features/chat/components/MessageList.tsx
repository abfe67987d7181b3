import { useEffect, useLayoutEffect, useRef } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { Spinner } from "@/components/ui/Spinner";
import { MessageItem } from "@/features/chat/components/MessageItem";
import type { MessageActions } from "@/features/chat/components/MessageItem";
import type { BranchMessage } from "@/features/chat/hooks/branches";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";
import type { ChatController } from "@/features/chat/hooks/useChat";
import { useJumpToMessage } from "@/features/chat/hooks/useJumpToMessage";

const NEAR_BOTTOM_PX = 80;

/**
 * The message log. It stays pinned to the bottom while a reply streams (unless the reader has
 * scrolled up; an edit or a regenerate pins it again), loads older pages when the top comes into
 * view, and keeps the reader's place when they arrive.
 */
export function MessageList({
  chat,
  isMine,
  actionsFor,
  authorNames,
  modelNames,
}: {
  chat: ChatController;
  isMine: (message: DisplayMessage) => boolean;
  actionsFor: (message: BranchMessage, index: number) => MessageActions;
  authorNames?: Record<string, string>;
  modelNames?: Record<string, string>;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
  const beforeOlder = useRef<{ height: number; top: number } | null>(null);
  useJumpToMessage(chat, scroller, pinned);
  const { history, messages, followRequests } = chat;

  // After an edit or a regenerate the reader is taken to the new answer, and follows it.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!followRequests || !element) return;
    pinned.current = true;
    element.scrollTop = element.scrollHeight;
  }, [followRequests]);

  // A streaming reply's text is revealed between renders of the list: follow it while pinned.
  useEffect(() => {
    const element = scroller.current;
    const content = log.current;
    if (!element || !content || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => {
      if (pinned.current && !beforeOlder.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(content);
    return () => observer.disconnect();
  }, []);

  const loadOlder = () => {
    if (!history.hasNextPage || history.isFetchingNextPage || !scroller.current) return;
    beforeOlder.current = { height: scroller.current.scrollHeight, top: scroller.current.scrollTop };
    void history.fetchNextPage();
  };

  useEffect(() => {
    const target = sentinel.current;
    if (!target || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadOlder(), {
      root: scroller.current,
      rootMargin: "200px 0px 0px 0px",
    });
    observer.observe(target);
    return () => observer.disconnect();
  });

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (beforeOlder.current && !history.isFetchingNextPage) {
      element.scrollTop = element.scrollHeight - beforeOlder.current.height + beforeOlder.current.top;
      beforeOlder.current = null;
    } else if (pinned.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [messages, history.isFetchingNextPage]);

  return (
    <div
      ref={scroller}
      className="message-scroller"
      onScroll={(event) => {
        const el = event.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
      }}
    >
      <div ref={sentinel} className="history-top">
        {history.hasNextPage ? (
          <Button variant="ghost" onClick={loadOlder} busy={history.isFetchingNextPage}>
            {history.isFetchingNextPage ? "Loading earlier messages…" : "Load earlier messages"}
          </Button>
        ) : (
          history.isSuccess && messages.length > 0 && <p className="muted small">Beginning of the conversation</p>
        )}
      </div>
      {history.isPending && <Spinner label="Loading messages" />}
      {history.error && <Alert>{history.error.message}</Alert>}
      <div ref={log} className="messages" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages">
        {messages.map((message, index) => (
          <MessageItem
            key={message.id}
            message={authorNames?.[message.authorId] ? { ...message, authorName: authorNames[message.authorId] } : message}
            mine={isMine(message)}
            actions={actionsFor(message, index)}
            modelName={message.model ? (modelNames?.[message.model] ?? message.model) : undefined}
          />
        ))}
      </div>
    </div>
  );
}
