import { useId, useState } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import {
  useAddRoomAssistant,
  useAssistants,
  useRemoveRoomAssistant,
  useRoomAssistants,
} from "@/features/assistants/api/assistants";
import { hrefFor } from "@/lib/router";
import type { Conversation } from "@/types/api";

/**
 * A room's assistants: every member sees whom they may call with @handle; the owner adds their
 * own assistants (a native select: the platform's keyboard and screen-reader list) and removes
 * them.
 */
export function RoomAssistants({ conversation }: { conversation: Conversation }) {
  const isOwner = conversation.role === "owner";
  const inRoom = useRoomAssistants(conversation.id);
  const mine = useAssistants();
  const add = useAddRoomAssistant(conversation.id);
  const remove = useRemoveRoomAssistant(conversation.id);
  const [choice, setChoice] = useState("");
  const [notice, setNotice] = useState("");
  const id = useId();
  const items = inRoom.data?.items ?? [];
  const added = new Set(items.map((a) => a.id));
  const addable = (mine.data?.items ?? []).filter((a) => !added.has(a.id));
  const full = items.length >= (inRoom.data?.limit ?? 10);
  return (
    <section className="room-assistants" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="members-heading">
        Assistants
      </h2>
      <p className="sr-only" aria-live="polite">
        {notice}
      </p>
      <ul className="room-assistant-list">
        <li>
          <span className="assistant-handle">@assistant</span> <span className="muted small">the default assistant</span>
        </li>
        {items.map((assistant) => (
          <li key={assistant.id}>
            <span className="assistant-handle">@{assistant.handle}</span> <span className="small">{assistant.name}</span>
            {isOwner && (
              <Button
                variant="ghost"
                className="btn-small"
                aria-label={`Remove ${assistant.name} from this room`}
                busy={remove.isPending && remove.variables === assistant.id}
                onClick={() => remove.mutate(assistant.id, { onSuccess: () => setNotice(`Removed ${assistant.name}.`) })}
              >
                Remove
              </Button>
            )}
          </li>
        ))}
      </ul>
      {isOwner &&
        (addable.length > 0 ? (
          <form
            className="room-assistant-add"
            onSubmit={(event) => {
              event.preventDefault();
              const picked = addable.find((a) => a.id === (choice || addable[0]?.id));
              if (!picked) return;
              add.mutate(picked.id, {
                onSuccess: () => {
                  setNotice(`Added ${picked.name}: members call it with @${picked.handle}.`);
                  setChoice("");
                },
              });
            }}
          >
            <label htmlFor={`${id}-pick`}>Add one of your assistants</label>
            <select id={`${id}-pick`} value={choice || addable[0]?.id} onChange={(e) => setChoice(e.target.value)} disabled={full}>
              {addable.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} (@{a.handle})
                </option>
              ))}
            </select>
            <Button type="submit" busy={add.isPending} disabled={full}>
              Add to room
            </Button>
          </form>
        ) : (
          mine.data && (
            <p className="small muted">
              {mine.data.items.length === 0 ? "You have no assistants yet. " : "Every one of your assistants is here. "}
              <a href={hrefFor({ name: "assistants" })}>Manage assistants</a>
            </p>
          )
        ))}
      {full && isOwner && <p className="small muted">This room has the most assistants a room may have.</p>}
      {add.error && <Alert>{add.error.message}</Alert>}
      {remove.error && <Alert>{remove.error.message}</Alert>}
    </section>
  );
}
