import { useId, useState } from "react";
import type { FormEvent } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { TextField } from "@/components/ui/TextField";
import {
  MAX_INSTRUCTIONS,
  handleProblem,
  useAssistants,
  useDeleteAssistant,
  useSaveAssistant,
} from "@/features/assistants/api/assistants";
import type { AssistantInput } from "@/features/assistants/api/assistants";
import { useCreateConversation } from "@/features/conversations/api/createConversation";
import { modelNames, useModels } from "@/features/conversations/api/models";
import { ModelPicker } from "@/features/conversations/components/ModelPicker";
import { navigate } from "@/lib/router";
import type { Assistant } from "@/types/api";

type Editing = { mode: "new" } | { mode: "edit"; assistant: Assistant } | null;

/**
 * The user's assistants: list, make, edit, delete (with confirmation), and start a chat from
 * one. Each is a name, an @handle, instructions (its system prompt), a model and a temperature.
 */
export function AssistantsPage() {
  const assistants = useAssistants();
  const models = useModels();
  const names = modelNames(models.data);
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Assistant | null>(null);
  const remove = useDeleteAssistant();
  const create = useCreateConversation();
  const [notice, setNotice] = useState("");

  const startChat = (assistant: Assistant) =>
    create.mutate(
      { kind: "assistant", assistantId: assistant.id, title: assistant.name },
      { onSuccess: (conversation) => navigate({ name: "conversation", id: conversation.id }) },
    );

  if (assistants.isPending) return <Spinner label="Loading assistants" />;
  const items = assistants.data?.items ?? [];
  const limit = assistants.data?.limit ?? 50;
  return (
    <div className="assistants-page">
      <header className="conversation-header">
        <h1>Assistants</h1>
        {editing === null && (
          <Button variant="primary" onClick={() => setEditing({ mode: "new" })} disabled={items.length >= limit}>
            New assistant
          </Button>
        )}
      </header>
      <p className="sr-only" aria-live="polite">
        {notice}
      </p>
      {assistants.error && <Alert>{assistants.error.message}</Alert>}
      {create.error && <Alert>{create.error.message}</Alert>}
      {editing !== null && (
        <AssistantForm
          key={editing.mode === "edit" ? editing.assistant.id : "new"}
          assistant={editing.mode === "edit" ? editing.assistant : undefined}
          onDone={(saved) => {
            setEditing(null);
            if (saved) setNotice(`Saved ${saved}.`);
          }}
        />
      )}
      {items.length === 0 && editing === null ? (
        <p className="muted">
          No assistants yet. Make one with its own instructions and model, then start a chat from it or add it to a room
          you own, where members call it by its @handle.
        </p>
      ) : (
        <ul className="assistant-list" aria-label="My assistants">
          {items.map((assistant) => (
            <li key={assistant.id} className="assistant-card">
              <div className="assistant-card-head">
                <h2>{assistant.name}</h2>
                <span className="assistant-handle">@{assistant.handle}</span>
              </div>
              <p className="assistant-instructions">{assistant.instructions}</p>
              <p className="small muted">
                {names[assistant.model] ?? assistant.model} · temperature {assistant.temperature}
              </p>
              <div className="assistant-actions">
                <Button variant="primary" onClick={() => startChat(assistant)} busy={create.isPending} aria-label={`Start a chat with ${assistant.name}`}>
                  Start chat
                </Button>
                <Button onClick={() => setEditing({ mode: "edit", assistant })} aria-label={`Edit assistant ${assistant.name}`}>
                  Edit
                </Button>
                <Button variant="danger" onClick={() => setDeleting(assistant)} aria-label={`Delete assistant ${assistant.name}`}>
                  Delete
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <p className="small muted">
        {items.length} of {limit} assistants.
      </p>
      {deleting && (
        <ConfirmDialog
          title={`Delete assistant ${deleting.name}?`}
          body="Rooms stop hearing it at once. Chats you started from it go on as they were."
          confirmLabel="Delete"
          busy={remove.isPending}
          onClose={() => setDeleting(null)}
          onConfirm={() =>
            remove.mutate(deleting.id, {
              onSuccess: () => {
                setNotice(`Deleted ${deleting.name}.`);
                setDeleting(null);
              },
            })
          }
        />
      )}
      {remove.error && <Alert>{remove.error.message}</Alert>}
    </div>
  );
}

/** Make or edit an assistant: every field labelled, its problems announced with it. */
export function AssistantForm({ assistant, onDone }: { assistant?: Assistant; onDone: (saved: string | null) => void }) {
  const save = useSaveAssistant();
  const id = useId();
  const [name, setName] = useState(assistant?.name ?? "");
  const [handle, setHandle] = useState(assistant?.handle ?? "");
  const [instructions, setInstructions] = useState(assistant?.instructions ?? "");
  const [model, setModel] = useState<string | null>(assistant?.model ?? null);
  const [temperature, setTemperature] = useState(String(assistant?.temperature ?? 1));
  const [touched, setTouched] = useState(false);
  const handleError = touched || handle ? handleProblem(handle) : null;
  const temperatureValue = Number(temperature);
  const temperatureError =
    temperature === "" || Number.isNaN(temperatureValue) || temperatureValue < 0 || temperatureValue > 2 ? "From 0 to 2." : null;
  const nameError = touched && !name.trim() ? "Give it a name." : null;
  const instructionsError = touched && !instructions.trim() ? "Say how it should answer." : null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (!name.trim() || !instructions.trim() || handleProblem(handle) || temperatureError) return;
    const input: AssistantInput = {
      name: name.trim(),
      handle,
      instructions: instructions.trim(),
      temperature: temperatureValue,
      ...(model ? { model } : {}),
    };
    save.mutate({ id: assistant?.id, input }, { onSuccess: (saved) => onDone(saved.name) });
  };

  return (
    <form className="assistant-form" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`}>{assistant ? `Edit assistant ${assistant.name}` : "New assistant"}</h2>
      <TextField label="Name" value={name} maxLength={60} onChange={(e) => setName(e.target.value)} error={nameError} required />
      <TextField
        label="Handle"
        value={handle}
        maxLength={32}
        autoCapitalize="off"
        spellCheck={false}
        onChange={(e) => setHandle(e.target.value.toLowerCase())}
        hint="Room members call it with @handle."
        error={handleError}
        required
      />
      <div className="field">
        <label htmlFor={`${id}-instructions`}>Instructions</label>
        <textarea
          id={`${id}-instructions`}
          value={instructions}
          rows={6}
          maxLength={MAX_INSTRUCTIONS}
          aria-describedby={`${id}-instructions-hint${instructionsError ? ` ${id}-instructions-error` : ""}`}
          aria-invalid={instructionsError ? true : undefined}
          onChange={(e) => setInstructions(e.target.value)}
          required
        />
        <p id={`${id}-instructions-hint`} className="field-hint">
          Its system prompt: who it is and how it answers. {instructions.length.toLocaleString("en-US")} of{" "}
          {MAX_INSTRUCTIONS.toLocaleString("en-US")} characters.
        </p>
        {instructionsError && (
          <p id={`${id}-instructions-error`} className="field-error">
            {instructionsError}
          </p>
        )}
      </div>
      <ModelPicker value={model} onChange={setModel} disabled={save.isPending} />
      <TextField
        label="Temperature"
        type="number"
        inputMode="decimal"
        min={0}
        max={2}
        step={0.1}
        value={temperature}
        onChange={(e) => setTemperature(e.target.value)}
        hint="0 is focused and repeatable, 2 is the most varied."
        error={temperatureError}
      />
      {save.error && <Alert>{save.error.message}</Alert>}
      <div className="dialog-actions">
        <Button onClick={() => onDone(null)}>Cancel</Button>
        <Button variant="primary" type="submit" busy={save.isPending}>
          {assistant ? "Save" : "Create assistant"}
        </Button>
      </div>
    </form>
  );
}
