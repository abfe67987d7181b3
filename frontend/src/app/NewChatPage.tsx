import { useState } from "react";

import { Alert } from "@/components/ui/Alert";
import { Composer } from "@/features/chat/components/Composer";
import { DemoModelHint } from "@/features/chat/components/DemoModelHint";
import { handOffFirstMessage } from "@/features/chat/firstMessage";
import { useCreateConversation } from "@/features/conversations/api/createConversation";
import { messageCharsOf, useModels } from "@/features/conversations/api/models";
import { ModelPicker } from "@/features/conversations/components/ModelPicker";
import { newClientMessageId } from "@/lib/ids";
import { navigate } from "@/lib/router";
import { useSession } from "@/lib/session";

/**
 * A chat with the assistant before its first message: nothing exists on the server until the
 * message is sent, so "New chat" never leaves an empty conversation behind. Sending creates the
 * conversation and hands the message to its chat view, which sends it.
 */
export function NewChatPage() {
  const { demoModel } = useSession();
  const create = useCreateConversation();
  const [draft, setDraft] = useState<{ key: string; content: string } | null>(null);
  const [model, setModel] = useState<string | null>(null); // null: the environment's default
  const models = useModels();

  const send = (content: string) => {
    create.mutate(
      { kind: "assistant", ...(model ? { model } : {}) },
      {
        onSuccess: (conversation) => {
          handOffFirstMessage(conversation.id, content);
          navigate({ name: "conversation", id: conversation.id });
        },
        // The text goes back in the box, to send again.
        onError: () => setDraft({ key: newClientMessageId(), content }),
      },
    );
  };

  return (
    <div className="conversation">
      <header className="conversation-header">
        <h1>New chat</h1>
        <ModelPicker value={model} onChange={setModel} disabled={create.isPending} />
      </header>
      <section className="chat" aria-label="Chat">
        <div className="empty-chat">
          <h2>What can I help with?</h2>
          <p className="muted">Answers stream as they are written. Esc stops one.</p>
        </div>
        {create.error && (
          <div className="chat-error">
            <Alert>{create.error.message}</Alert>
          </div>
        )}
        <Composer
          onSend={send}
          onStop={() => undefined}
          streaming={false}
          blockWhileStreaming
          restoreDraft={draft}
          disabled={create.isPending}
          placeholder="Ask anything"
          maxChars={messageCharsOf(models.data, model)}
        />
        {demoModel && <DemoModelHint model={models.data?.items.find((m) => m.id === (model ?? models.data?.default))?.label ?? demoModel} />}
      </section>
    </div>
  );
}
