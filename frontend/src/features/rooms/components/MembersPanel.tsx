import { useEffect, useState } from "react";
import type { FormEvent } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { TextField } from "@/components/ui/TextField";
import { useInviteMember, useMembers, useRemoveMember } from "@/features/rooms/api/members";
import { useSession } from "@/lib/session";
import type { Conversation } from "@/types/api";
import type { PresenceUser } from "@/types/ws";

/** How long a "joined the room" notice stays before it fades (ms), and the fade. */
export const NOTICE_MS = 5000;
const FADE_MS = 600;

/** A room's members with who is online, the owner's invite form, and Leave. */
export function MembersPanel({
  conversation,
  online,
  onLeft,
}: {
  conversation: Conversation;
  online: PresenceUser[] | null;
  onLeft: () => void;
}) {
  const { userId } = useSession();
  const members = useMembers(conversation.id);
  const invite = useInviteMember(conversation.id);
  const remove = useRemoveMember(conversation.id);
  const [email, setEmail] = useState("");
  const [invited, setInvited] = useState<string | null>(null);
  const [fading, setFading] = useState(false);
  // "X joined the room" is read, then fades and goes (a new invite starts it again).
  useEffect(() => {
    if (!invited) return;
    const fade = setTimeout(() => setFading(true), NOTICE_MS);
    const gone = setTimeout(() => setInvited(null), NOTICE_MS + FADE_MS);
    return () => {
      clearTimeout(fade);
      clearTimeout(gone);
    };
  }, [invited]);
  const [leaving, setLeaving] = useState(false);
  const onlineIds = new Set((online ?? []).map((u) => u.userId));
  const isOwner = conversation.role === "owner";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const address = email.trim();
    if (!address) return;
    setInvited(null);
    invite.mutate(address, {
      onSuccess: (member) => {
        setFading(false);
        setInvited(`${member.name || member.email} joined the room.`);
        setEmail("");
      },
    });
  };

  return (
    <aside className="members" aria-label="Members">
      <h2>Members</h2>
      {members.isPending && <Spinner label="Loading members" />}
      {members.error && <Alert>{members.error.message}</Alert>}
      <ul className="member-list">
        {members.data?.map((member) => {
          const isOnline = onlineIds.has(member.userId);
          return (
            <li key={member.userId} data-online={isOnline}>
              <span className={`presence ${isOnline ? "online" : "offline"}`} aria-hidden="true" />
              <span className="member-name">
                {member.name || member.email}
                {member.userId === userId && " (you)"}
              </span>
              <span className="visually-hidden">{isOnline ? ", online" : ", offline"}</span>
              {member.role === "owner" && <span className="badge">owner</span>}
            </li>
          );
        })}
      </ul>
      {isOwner && (
        <form onSubmit={submit} className="invite">
          <TextField
            label="Invite by email"
            type="email"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            error={invite.error?.message}
          />
          <Button type="submit" busy={invite.isPending}>
            Invite
          </Button>
          {invited && (
            <div className={fading ? "fade-out" : undefined}>
              <Alert tone="success">{invited}</Alert>
            </div>
          )}
        </form>
      )}
      {!isOwner && (
        <Button variant="danger" onClick={() => setLeaving(true)}>
          Leave room
        </Button>
      )}
      {leaving && (
        <ConfirmDialog
          title="Leave this room?"
          body={remove.error ? remove.error.message : "You will stop seeing its messages. A member can invite you back."}
          confirmLabel="Leave"
          busy={remove.isPending}
          onClose={() => setLeaving(false)}
          onConfirm={() => remove.mutate(userId, { onSuccess: onLeft })}
        />
      )}
    </aside>
  );
}
