import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";

import { useMessages } from "@/features/chat/api/listMessages";
import { activeBranch, forkOf } from "@/features/chat/hooks/branches";
import type { BranchMessage, Choices } from "@/features/chat/hooks/branches";
import { initialLive, liveReducer, mergeMessages } from "@/features/chat/hooks/live-store";
import type { DisplayMessage, LiveState } from "@/features/chat/hooks/live-store";
import { newClientMessageId } from "@/lib/ids";
import { queryKeys } from "@/lib/query-keys";
import { useConversationSubscription, useRealtime, useRealtimeEvents } from "@/lib/realtime-context";
import type { SendMessage } from "@/types/ws.gen";

export interface ChatController {
  /** In a chat with the assistant, the branch shown (with each message's versions). */
  messages: BranchMessage[];
  streaming: DisplayMessage | null;
  history: ReturnType<typeof useMessages>;
  lastError: LiveState["lastError"];
  /** Text handed back to the composer. */
  draft: LiveState["draft"];
  /** Sends a message, with the ids of files attached to it (ready ones). */
  send: (content: string, attachmentIds?: string[]) => void;
  stop: () => void;
  /** Asks the assistant to answer this user message again (regenerate, or Retry after a
   * failure); with `model`, that catalog model writes the new version (this one only). */
  retry: (userMessageId: string, model?: string) => void;
  resend: (content: string, clientMessageId: string) => void;
  /** Sends `content` as a new version of an earlier message of mine: a new branch from there. */
  edit: (messageId: string, content: string) => void;
  /** Shows another version of a message (its `versions.ids` entry). */
  showVersion: (message: BranchMessage, id: string) => void;
  /** Bumped when the reader should be taken to the newest answer (after an edit or regenerate). */
  followRequests: number;
  dismissError: () => void;
}

/**
 * One conversation's messages: fetched history merged with the live stream, and the actions on
 * it. A chat with the assistant (`branching`) shows one branch: edits and regenerated replies
 * are versions, and new messages follow the last message shown.
 */
export function useChat(conversationId: string, branching = false): ChatController {
  const client = useRealtime();
  const queryClient = useQueryClient();
  const history = useMessages(conversationId);
  const [live, dispatch] = useReducer(liveReducer, conversationId, initialLive);

  useConversationSubscription(conversationId);
  const subscriptions = useRef(0);
  useRealtimeEvents((event) => {
    dispatch({ type: "event", event });
    if (event.type === "subscribed" && event.conversationId === conversationId) {
      // A subscription after the first follows a reconnect or a gap: what was said meanwhile
      // reached nobody's socket, so the history is fetched again.
      subscriptions.current += 1;
      if (subscriptions.current > 1) void queryClient.invalidateQueries({ queryKey: queryKeys.messages(conversationId) });
    }
    if ((event.type === "message.created" || event.type === "message.completed") && event.conversationId === conversationId) {
      // New activity re-orders the list, and the first message gives the conversation its title.
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversation(conversationId) });
      if (event.contentOmitted) void queryClient.invalidateQueries({ queryKey: queryKeys.messages(conversationId) });
    }
  });

  useEffect(() => {
    if (!live.needsResync) return;
    client.resubscribe(conversationId);
    dispatch({ type: "resynced" });
  }, [client, conversationId, live.needsResync]);

  const fetched = useMemo(() => history.data?.pages.flatMap((page) => page.items) ?? [], [history.data]);
  const [chosen, setChosen] = useState<Choices>({});
  const [followRequests, setFollowRequests] = useState(0);
  const merged = useMemo(() => mergeMessages(fetched, live), [fetched, live]);
  const messages = useMemo(
    () => (branching ? activeBranch(merged, conversationId, chosen) : merged),
    [branching, merged, conversationId, chosen],
  );
  const lastShown = [...messages].reverse().find((m) => !m.local)?.id;
  const streaming = useMemo(
    () => [...messages].reverse().find((m) => m.role === "assistant" && m.status === "streaming") ?? null,
    [messages],
  );

  /** Every message sent from here, as sent: Retry on one the server refused sends it again
   * whole (an edit stays an edit, files stay attached), under the same clientMessageId. */
  const sent = useRef(new Map<string, SendMessage>());
  const deliver = useCallback(
    (request: SendMessage) => {
      sent.current.set(request.clientMessageId, request);
      dispatch({ type: "send", clientMessageId: request.clientMessageId, content: request.content, createdAt: new Date().toISOString() });
      client.send(request);
    },
    [client],
  );
  const send = useCallback(
    (content: string, attachmentIds: string[] = []) => {
      const after = branching && lastShown ? { after: lastShown } : {};
      const files = attachmentIds.length ? { attachmentIds } : {};
      deliver({ action: "sendMessage", conversationId, clientMessageId: newClientMessageId(), content, ...after, ...files });
    },
    [deliver, conversationId, branching, lastShown],
  );
  /** The fork at `at` shows its newest version again (where a new one is on its way). */
  const followNewest = useCallback((at: string) => {
    setChosen((current) => {
      const next = { ...current };
      delete next[at];
      return next;
    });
    setFollowRequests((n) => n + 1);
  }, []);
  const edit = useCallback(
    (messageId: string, content: string) => {
      const original = messages.find((m) => m.id === messageId);
      if (!original) return;
      deliver({ action: "sendMessage", conversationId, clientMessageId: newClientMessageId(), content, editOf: messageId });
      followNewest(forkOf(original, messages, conversationId));
    },
    [deliver, conversationId, messages, followNewest],
  );
  const showVersion = useCallback(
    (message: BranchMessage, id: string) => setChosen((current) => ({ ...current, [forkOf(message, messages, conversationId)]: id })),
    [messages, conversationId],
  );
  const resend = useCallback(
    (content: string, clientMessageId: string) => {
      const request = sent.current.get(clientMessageId);
      deliver(request ? { ...request, content } : { action: "sendMessage", conversationId, clientMessageId, content });
    },
    [deliver, conversationId],
  );
  const stop = useCallback(() => {
    if (streaming) client.send({ action: "stop", conversationId, messageId: streaming.id });
  }, [client, conversationId, streaming]);
  const retry = useCallback(
    (userMessageId: string, model?: string) => {
      client.send({ action: "retry", conversationId, messageId: userMessageId, ...(model ? { model } : {}) });
      followNewest(userMessageId); // the new version of the reply is the one shown
    },
    [client, conversationId, followNewest],
  );
  const dismissError = useCallback(() => dispatch({ type: "dismissError" }), []);

  return {
    messages,
    streaming,
    history,
    lastError: live.lastError,
    draft: live.draft,
    send,
    stop,
    retry,
    resend,
    edit,
    showVersion,
    followRequests,
    dismissError,
  };
}
