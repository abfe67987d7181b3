import { useMemo, useState } from "react";

import { useMe } from "@/app/useMe";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { Spinner } from "@/components/ui/Spinner";
import { useRoomAssistants } from "@/features/assistants/api/assistants";
import { RoomAssistants } from "@/features/assistants/components/RoomAssistants";
import { ChatView } from "@/features/chat/components/ChatView";
import { handleFor } from "@/features/chat/mentions";
import { useConversation } from "@/features/conversations/api/getConversation";
import { messageCharsOf, modelNames, useModels, useSetConversationModel } from "@/features/conversations/api/models";
import { ExportButton } from "@/features/conversations/components/ExportDialog";
import { ModelPicker } from "@/features/conversations/components/ModelPicker";
import { displayTitle } from "@/features/conversations/format";
import { useMembers } from "@/features/rooms/api/members";
import { ShareButton } from "@/features/shares/components/ShareDialog";
import { MembersPanel } from "@/features/rooms/components/MembersPanel";
import { TypingIndicator } from "@/features/rooms/components/TypingIndicator";
import { usePresence, useTypingSender, useTypingUsers } from "@/features/rooms/hooks/useRoomActivity";
import { navigate } from "@/lib/router";
import { useSession } from "@/lib/session";
import type { Conversation } from "@/types/api";

/** Composes a conversation's page from the chat and rooms features. */
export function ConversationPage({ conversationId }: { conversationId: string }) {
  const conversation = useConversation(conversationId);
  if (conversation.isPending) return <Spinner label="Loading conversation" />;
  if (conversation.error) {
    return (
      <div className="page-error">
        <Alert>
          {"status" in conversation.error && conversation.error.status === 404
            ? "This conversation does not exist or you are not a member."
            : conversation.error.message}
        </Alert>
        <Button onClick={() => navigate({ name: "home" })}>Back</Button>
      </div>
    );
  }
  const data = conversation.data;
  return data.kind === "group" ? <RoomPage conversation={data} /> : <AssistantPage conversation={data} />;
}

/** The conversation's model in its header: a picker for who may choose it (anyone in their own
 * chat, the owner of a room), else its name; a change applies to the next reply. */
function ConversationModel({ conversation }: { conversation: Conversation }) {
  const models = useModels();
  const setModel = useSetConversationModel();
  const current = conversation.model ?? models.data?.default;
  const name = current ? (modelNames(models.data)[current] ?? current) : null;
  if (conversation.kind === "group" && conversation.role !== "owner") {
    return name ? <span className="reply-model">Model: {name}</span> : null;
  }
  return (
    <>
      <ModelPicker
        value={conversation.model}
        disabled={setModel.isPending}
        onChange={(model) => setModel.mutate({ id: conversation.id, model })}
      />
      <span className="sr-only" aria-live="polite">
        {setModel.isSuccess && name ? `The next reply will be written by ${name}.` : ""}
      </span>
      {setModel.error && <Alert>{setModel.error.message}</Alert>}
    </>
  );
}

function AssistantPage({ conversation }: { conversation: Conversation }) {
  const me = useMe();
  const models = useModels();
  return (
    <div className="conversation">
      <header className="conversation-header">
        <h1>{displayTitle(conversation)}</h1>
        {conversation.assistant && <span className="reply-model">With {conversation.assistant.name}</span>}
        <ConversationModel conversation={conversation} />
        <ExportButton conversation={conversation} />
        <ShareButton conversation={conversation} title={displayTitle(conversation)} />
      </header>
      <ChatView
        conversation={conversation}
        maxChars={messageCharsOf(models.data, conversation.model) ?? me.data?.limits.messageChars}
        modelNames={modelNames(models.data)}
        models={models.data?.items}
      />
    </div>
  );
}

function RoomPage({ conversation }: { conversation: Conversation }) {
  const { userId } = useSession();
  const me = useMe();
  const members = useMembers(conversation.id);
  const online = usePresence(conversation.id);
  const typing = useTypingUsers(conversation.id);
  const sendTyping = useTypingSender(conversation.id);
  const [showMembers, setShowMembers] = useState(false);
  const models = useModels();
  const assistants = useRoomAssistants(conversation.id);
  // The room's assistants first after the default: a mention of one of them is what answers.
  const candidates = useMemo(
    () => [
      "assistant",
      ...(assistants.data?.items ?? []).map((a) => a.handle),
      ...(members.data ?? []).filter((m) => m.userId !== userId).map((m) => handleFor(m.name || m.email.split("@")[0]!)),
    ],
    [members.data, assistants.data, userId],
  );
  const authorNames = useMemo(
    () => Object.fromEntries((members.data ?? []).filter((m) => m.name).map((m) => [m.userId, m.name])),
    [members.data],
  );
  const onlineCount = online?.length ?? 0;
  // The members list has the profile names; events carry what the connection knew.
  const nameOf = (person: { userId: string; name: string }) =>
    members.data?.find((m) => m.userId === person.userId)?.name || person.name;
  return (
    <div className={`conversation room ${showMembers ? "members-open" : ""}`}>
      <header className="conversation-header">
        <h1>{displayTitle(conversation)}</h1>
        <ConversationModel conversation={conversation} />
        <ExportButton conversation={conversation} />
        <ShareButton conversation={conversation} title={displayTitle(conversation)} />
        <Button
          variant="ghost"
          aria-expanded={showMembers}
          aria-controls="room-members"
          onClick={() => setShowMembers((open) => !open)}
        >
          Members · {onlineCount} online
        </Button>
      </header>
      <div className="room-body">
        <ChatView
          conversation={conversation}
          mentionCandidates={candidates}
          onTyping={sendTyping}
          authorNames={authorNames}
          modelNames={modelNames(models.data)}
          models={models.data?.items}
          maxChars={messageCharsOf(models.data, conversation.model) ?? me.data?.limits.messageChars}
          belowMessages={<TypingIndicator names={typing.map(nameOf)} />}
        />
        <div id="room-members" className="room-members">
          <MembersPanel conversation={conversation} online={online} onLeft={() => navigate({ name: "home" })} />
          <RoomAssistants conversation={conversation} />
        </div>
      </div>
    </div>
  );
}
