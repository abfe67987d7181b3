import { useCallback, useEffect, useState } from "react";
import type { ReactNode } from "react";

import { Alert } from "@/components/ui/Alert";
import { Composer } from "@/features/chat/components/Composer";
import { preloadMarkdown } from "@/features/chat/components/LazyMarkdown";
import { MessageList } from "@/features/chat/components/MessageList";
import type { MessageActions } from "@/features/chat/components/MessageItem";
import type { BranchMessage } from "@/features/chat/hooks/branches";
import type { DisplayMessage } from "@/features/chat/hooks/live-store";
import { DemoModelHint } from "@/features/chat/components/DemoModelHint";
import { FIRST_MESSAGE_WAIT_MS, peekFirstMessage, takeFirstMessage } from "@/features/chat/firstMessage";
import { useAttachments } from "@/features/chat/hooks/useAttachments";
import { useChat } from "@/features/chat/hooks/useChat";
import { useMediaQuery } from "@/lib/media";
import { useRealtimeEvents } from "@/lib/realtime-context";
import { useSession } from "@/lib/session";
import type { Conversation, ModelInfo } from "@/types/api";

/** A conversation: its messages, the composer, and the keyboard shortcuts that go with them. */
export function ChatView({
  conversation,
  mentionCandidates,
  onTyping,
  belowMessages,
  authorNames,
  modelNames,
  models,
  maxChars,
}: {
  conversation: Conversation;
  mentionCandidates?: string[];
  onTyping?: (isTyping: boolean) => void;
  /** Shown between the log and the composer (the typing indicator in rooms). */
  belowMessages?: ReactNode;
  /** Display names by user id (a room's members), preferred over what a message carries. */
  authorNames?: Record<string, string>;
  /** Catalog models' labels by id: which model wrote each reply. */
  modelNames?: Record<string, string>;
  /** The models the user may use (`GET /models`): "Regenerate with…" offers them. */
  models?: ModelInfo[];
  /** The server's limit on a message's length (`GET /me`). */
  maxChars?: number;
}) {
  const { userId, demoModel } = useSession();
  const narrow = useMediaQuery("(max-width: 600px)");
  const isGroup = conversation.kind === "group";
  const chat = useChat(conversation.id, !isGroup);
  const files = useAttachments(conversation.id);
  const { messages, streaming, stop } = chat;

  useEffect(preloadMarkdown, []);

  // A chat started from "New chat" exists from its first message on. It is sent once the room's
  // subscription is confirmed, so the reply's events reach this view (after 3 s regardless).
  const { send } = chat;
  const [hasFirst] = useState(() => peekFirstMessage(conversation.id) !== null);
  const sendFirst = useCallback(() => {
    const first = takeFirstMessage(conversation.id);
    if (first) send(first);
  }, [conversation.id, send]);
  useRealtimeEvents((event) => {
    if (event.type === "subscribed" && event.conversationId === conversation.id) sendFirst();
  });
  useEffect(() => {
    if (!hasFirst) return;
    const timer = setTimeout(sendFirst, FIRST_MESSAGE_WAIT_MS);
    return () => clearTimeout(timer);
  }, [hasFirst, sendFirst]);

  useEffect(() => {
    if (!streaming) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape" && !event.defaultPrevented && !document.querySelector("[role=dialog]")) stop();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [streaming, stop]);

  const isMine = useCallback((m: DisplayMessage) => m.role === "user" && (m.authorId === userId || Boolean(m.local)), [userId]);
  const lastMineIndex = messages.findLastIndex((m) => isMine(m) && !m.local);
  const lastIndex = messages.length - 1;

  const actionsFor = (message: BranchMessage, index: number): MessageActions => {
    const actions: MessageActions = {};
    if (message.local === "unsent" && message.clientMessageId) {
      const { content, clientMessageId } = message;
      actions.onResend = () => chat.resend(content, clientMessageId);
    }
    if (message.role === "assistant" && !message.local && !message.failure && (message.status === "complete" || message.status === "stopped")) {
      actions.rateable = true;
    }
    if (message.role === "assistant" && message.replyTo) {
      const replyTo = message.replyTo;
      if (message.status === "failed") actions.onRetry = () => chat.retry(replyTo);
      else if (index === lastIndex && !streaming && message.status !== "streaming") {
        actions.onRegenerate = () => chat.retry(replyTo);
        if (models?.length) actions.regenerateWith = { models, onChoose: (model) => chat.retry(replyTo, model) };
      }
    }
    // A chat with the assistant branches at any message of mine; a room only takes a new message.
    if (!isGroup && isMine(message) && !message.local && !streaming) actions.onEdit = (content) => chat.edit(message.id, content);
    else if (isGroup && index === lastMineIndex && !streaming) actions.onEdit = (content) => chat.send(content);
    if (message.versions) {
      const { index: at, ids } = message.versions;
      actions.versions = {
        index: at,
        count: ids.length,
        onPrevious: at > 0 && !streaming ? () => chat.showVersion(message, ids[at - 1]!) : undefined,
        onNext: at < ids.length - 1 && !streaming ? () => chat.showVersion(message, ids[at + 1]!) : undefined,
      };
    }
    return actions;
  };

  return (
    <section className="chat" aria-label="Chat">
      <MessageList chat={chat} isMine={isMine} actionsFor={actionsFor} authorNames={authorNames} modelNames={modelNames} />
      {chat.history.isSuccess && messages.length === 0 && (
        <div className="empty-chat">
          <h2>{isGroup ? "Say hello to the room" : "What can I help with?"}</h2>
          <p className="muted">
            {isGroup ? "Mention @assistant to bring the assistant in." : "Answers stream as they are written. Esc stops one."}
          </p>
        </div>
      )}
      {chat.lastError && (
        <div className="chat-error">
          <Alert tone={chat.lastError.tone === "notice" ? "info" : "error"}>
            {chat.lastError.text}{" "}
            <button type="button" className="link" onClick={chat.dismissError}>
              Dismiss
            </button>
          </Alert>
        </div>
      )}
      <div className="below-messages">{belowMessages}</div>
      <Composer
        onSend={(content) => {
          chat.send(content, files.readyIds());
          files.clear();
        }}
        attachments={files}
        onStop={stop}
        streaming={Boolean(streaming)}
        blockWhileStreaming={!isGroup}
        mentionCandidates={isGroup ? mentionCandidates : undefined}
        onTyping={onTyping}
        restoreDraft={chat.draft}
        maxChars={maxChars}
        placeholder={isGroup ? (narrow ? "Message the room" : "Message the room — @assistant to ask the assistant") : "Ask anything"}
      />
      {!isGroup && demoModel && <DemoModelHint model={(conversation.model && modelNames?.[conversation.model]) || demoModel} />}
    </section>
  );
}
