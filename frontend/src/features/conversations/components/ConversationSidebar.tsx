import { useMemo, useState } from "react";
import type { FormEvent } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog, Dialog } from "@/components/ui/Dialog";
import { Icon } from "@/components/ui/Icon";
import { Spinner } from "@/components/ui/Spinner";
import { TextField } from "@/components/ui/TextField";
import { useCreateConversation } from "@/features/conversations/api/createConversation";
import { useDeleteConversation } from "@/features/conversations/api/deleteConversation";
import { useConversations } from "@/features/conversations/api/listConversations";
import { useRenameConversation } from "@/features/conversations/api/renameConversation";
import { MessageSearch } from "@/features/conversations/components/MessageSearch";
import { displayTitle, filterConversations, relativeTime } from "@/features/conversations/format";
import { hrefFor, navigate } from "@/lib/router";
import type { Conversation } from "@/types/api";

/** The conversation list: search, new chat, new room, rename and delete, newest activity first. */
export function ConversationSidebar({ activeId, onNavigate }: { activeId: string | null; onNavigate?: () => void }) {
  const conversations = useConversations();
  const create = useCreateConversation();
  const [search, setSearch] = useState("");
  const [newRoom, setNewRoom] = useState(false);
  const [renaming, setRenaming] = useState<Conversation | null>(null);
  const [deleting, setDeleting] = useState<Conversation | null>(null);

  const all = useMemo(() => conversations.data?.pages.flatMap((page) => page.items) ?? [], [conversations.data]);
  const visible = useMemo(() => filterConversations(all, search), [all, search]);

  const startRoom = async (title: string) => {
    const conversation = await create.mutateAsync({ kind: "group", title });
    navigate({ name: "conversation", id: conversation.id });
    onNavigate?.();
  };
  // A chat with the assistant is created with its first message (the "new" page), so a click
  // that is never followed by a message leaves nothing in the list.
  const startChat = () => {
    navigate({ name: "new" });
    onNavigate?.();
  };

  return (
    <nav className="sidebar" aria-label="Conversations">
      <div className="sidebar-actions">
        <Button variant="primary" onClick={startChat}>
          New chat
        </Button>
        <Button onClick={() => setNewRoom(true)}>New room</Button>
        <a className="btn btn-ghost" href={hrefFor({ name: "assistants" })} onClick={() => onNavigate?.()}>
          Assistants
        </a>
      </div>
      {create.error && <Alert>{create.error.message}</Alert>}
      <div className="sidebar-search">
        <label htmlFor="conversation-search" className="visually-hidden">
          Search conversations and messages
        </label>
        <input
          id="conversation-search"
          type="search"
          placeholder="Search conversations and messages"
          maxLength={200}
          onKeyDown={(event) => event.key === "Escape" && setSearch("")}
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
      </div>
      {conversations.isPending && <Spinner label="Loading conversations" />}
      {conversations.error && <Alert>{conversations.error.message}</Alert>}
      <ul className="conversation-list" aria-label="Conversation list">
        {visible.map((conversation) => (
          <li key={conversation.id} className={conversation.id === activeId ? "active" : undefined}>
            <a
              href={hrefFor({ name: "conversation", id: conversation.id })}
              aria-current={conversation.id === activeId ? "page" : undefined}
              onClick={() => onNavigate?.()}
            >
              <span className="conversation-kind">
                <Icon name={conversation.kind === "group" ? "hash" : "spark"} size={14} />
              </span>
              <span className="conversation-title" title={displayTitle(conversation)}>
                {displayTitle(conversation)}
              </span>
              <time dateTime={conversation.updatedAt} className="conversation-time">
                {relativeTime(conversation.updatedAt)}
              </time>
            </a>
            {conversation.role === "owner" && (
              <span className="conversation-tools">
                <button type="button" className="btn btn-ghost icon-btn" aria-label={`Rename ${displayTitle(conversation)}`} onClick={() => setRenaming(conversation)}>
                  <Icon name="pencil" size={16} />
                </button>
                <button type="button" className="btn btn-ghost icon-btn" aria-label={`Delete ${displayTitle(conversation)}`} onClick={() => setDeleting(conversation)}>
                  <Icon name="trash" size={16} />
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {!conversations.isPending && visible.length === 0 && (
        <p className="muted sidebar-empty">{search ? "No conversation title matches." : "No conversations yet."}</p>
      )}
      {search.trim() && <MessageSearch query={search} onNavigate={onNavigate} />}
      {conversations.hasNextPage && (
        <Button variant="ghost" onClick={() => void conversations.fetchNextPage()} busy={conversations.isFetchingNextPage}>
          Show older
        </Button>
      )}
      {newRoom && <NewRoomDialog onClose={() => setNewRoom(false)} onCreate={startRoom} />}
      {renaming && <RenameDialog conversation={renaming} onClose={() => setRenaming(null)} />}
      {deleting && (
        <DeleteDialog
          conversation={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            if (deleting.id === activeId) navigate({ name: "home" });
          }}
        />
      )}
    </nav>
  );
}

function NewRoomDialog({ onClose, onCreate }: { onClose: () => void; onCreate: (title: string) => Promise<void> }) {
  const [title, setTitle] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!title.trim()) return setError("Give the room a name.");
    setBusy(true);
    try {
      await onCreate(title.trim());
      onClose();
    } catch (caught) {
      setError((caught as Error).message);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="New room"
      onClose={onClose}
      actions={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={busy} onClick={() => void submit()}>
            Create room
          </Button>
        </>
      }
    >
      <form onSubmit={(event) => void submit(event)}>
        <TextField label="Room name" value={title} maxLength={200} onChange={(event) => setTitle(event.target.value)} error={error} />
      </form>
    </Dialog>
  );
}

function RenameDialog({ conversation, onClose }: { conversation: Conversation; onClose: () => void }) {
  const rename = useRenameConversation();
  const [title, setTitle] = useState(conversation.title);
  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (!title.trim()) return;
    await rename.mutateAsync({ id: conversation.id, title: title.trim() }).then(onClose, () => undefined);
  };
  return (
    <Dialog
      title="Rename conversation"
      onClose={onClose}
      actions={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" busy={rename.isPending} disabled={!title.trim()} onClick={() => void submit()}>
            Save
          </Button>
        </>
      }
    >
      <form onSubmit={(event) => void submit(event)}>
        <TextField label="Title" value={title} maxLength={200} onChange={(event) => setTitle(event.target.value)} error={rename.error?.message} />
      </form>
    </Dialog>
  );
}

/** What deleting removes, and for whom: a room's members lose it too, a private chat is yours alone. */
export function deleteWarning(conversation: Pick<Conversation, "title" | "kind">): string {
  const title = `“${displayTitle(conversation)}”`;
  return conversation.kind === "group"
    ? `${title} and all its messages will be deleted for everyone in the room. This cannot be undone.`
    : `${title} and all its messages will be deleted. This cannot be undone.`;
}

function DeleteDialog({ conversation, onClose, onDeleted }: { conversation: Conversation; onClose: () => void; onDeleted: () => void }) {
  const remove = useDeleteConversation();
  return (
    <ConfirmDialog
      title="Delete conversation?"
      body={
        <>
          {deleteWarning(conversation)}
          {remove.error && <span className="field-error"> {remove.error.message}</span>}
        </>
      }
      confirmLabel="Delete"
      busy={remove.isPending}
      onClose={onClose}
      onConfirm={() =>
        remove.mutate(conversation.id, {
          onSuccess: () => {
            onDeleted();
            onClose();
          },
        })
      }
    />
  );
}
