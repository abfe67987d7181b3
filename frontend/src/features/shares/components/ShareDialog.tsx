import { useEffect, useId, useRef, useState } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { CopyButton } from "@/components/ui/CopyButton";
import { Dialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { shareUrl, useCreateShare, useRevokeShare, useShares } from "@/features/shares/api/shares";
import type { Expiry, ShareLink } from "@/features/shares/api/shares";
import type { Conversation } from "@/types/api";

export const EXPIRIES: { value: string; days: Expiry; label: string }[] = [
  { value: "never", days: null, label: "Never (until you revoke it)" },
  { value: "1", days: 1, label: "After 1 day" },
  { value: "7", days: 7, label: "After 7 days" },
  { value: "30", days: 30, label: "After 30 days" },
  { value: "365", days: 365, label: "After a year" },
];

const when = (iso: string) => new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });

/** "Share" in a conversation's header, for its owner only (the API refuses anyone else too). */
export function ShareButton({ conversation, title }: { conversation: Conversation; title: string }) {
  const [open, setOpen] = useState(false);
  if (conversation.role !== "owner") return null;
  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-haspopup="dialog">
        Share
      </Button>
      {open && <ShareDialog conversationId={conversation.id} title={title} onClose={() => setOpen(false)} />}
    </>
  );
}

/**
 * Make a read-only link to the conversation as it is now (optionally expiring), copy it, and
 * list and revoke the conversation's links. A link shows a snapshot: later messages never.
 */
export function ShareDialog({ conversationId, title, onClose }: { conversationId: string; title: string; onClose: () => void }) {
  const [expiry, setExpiry] = useState("never");
  const [made, setMade] = useState<ShareLink | null>(null);
  const [notice, setNotice] = useState("");
  const links = useShares(conversationId);
  const create = useCreateShare(conversationId);
  const revoke = useRevokeShare(conversationId);
  const expiryId = useId();
  const newLinkId = useId();
  // A busy button loses focus; keep it in the dialog: on the new link, or after a revoke on the
  // button that makes one.
  const newLink = useRef<HTMLInputElement>(null);
  const createRow = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (made) newLink.current?.focus();
  }, [made]);

  const makeLink = () => {
    const days = EXPIRIES.find((option) => option.value === expiry)?.days ?? null;
    create.mutate(days, {
      onSuccess: (link) => {
        setMade(link);
        setNotice("Link created. Copy it to share.");
      },
    });
  };
  const revokeLink = (link: ShareLink) =>
    revoke.mutate(link.id, {
      onSuccess: () => {
        if (made?.id === link.id) setMade(null);
        setNotice("Link revoked: it no longer opens the conversation.");
        createRow.current?.querySelector("button")?.focus();
      },
    });

  return (
    <Dialog title={`Share “${title}”`} onClose={onClose} actions={<Button onClick={onClose}>Done</Button>}>
      <p className="muted">
        Anyone with a link can read this conversation as it is now, without signing in. Messages added later are not shown; e-mail
        addresses and files are never shared.
      </p>
      <div ref={createRow} className="share-create">
        <label htmlFor={expiryId}>Link expires</label>
        <select id={expiryId} value={expiry} onChange={(event) => setExpiry(event.target.value)}>
          {EXPIRIES.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
        <Button variant="primary" busy={create.isPending} onClick={makeLink}>
          Create link
        </Button>
      </div>
      {create.error && <Alert>{create.error.message}</Alert>}
      {made && (
        <div className="share-new">
          <label htmlFor={newLinkId}>New link</label>
          <div className="row">
            <input ref={newLink} id={newLinkId} readOnly value={shareUrl(made)} onFocus={(event) => event.currentTarget.select()} />
            <CopyButton text={shareUrl(made)} label="Copy link" />
          </div>
        </div>
      )}
      <p className="sr-only" role="status" aria-live="polite">
        {notice}
      </p>
      <h3 className="share-list-title">Links to this conversation</h3>
      {links.isPending && <Spinner label="Loading links" />}
      {links.error && <Alert>{links.error.message}</Alert>}
      {links.data && links.data.items.length === 0 && <p className="muted">No links yet.</p>}
      {links.data && links.data.items.length > 0 && (
        <ul className="share-links" aria-label="Share links">
          {links.data.items.map((link) => (
            <li key={link.id} className="share-link">
              <div className="share-link-info">
                <span className="share-link-url">{shareUrl(link)}</span>
                <span className="muted small">
                  Created {when(link.createdAt)} · {link.messageCount} message{link.messageCount === 1 ? "" : "s"} ·{" "}
                  {link.expired ? (
                    <strong>Expired</strong>
                  ) : link.expiresAt ? (
                    `Expires ${when(link.expiresAt)}`
                  ) : (
                    "Never expires"
                  )}
                </span>
              </div>
              <div className="row">
                <CopyButton text={shareUrl(link)} label="Copy" />
                <Button
                  variant="ghost"
                  className="btn-small"
                  busy={revoke.isPending && revoke.variables === link.id}
                  aria-label={`Revoke the link created ${when(link.createdAt)}`}
                  onClick={() => revokeLink(link)}
                >
                  Revoke
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {revoke.error && <Alert>{revoke.error.message}</Alert>}
      {links.data && (
        <p className="muted small">
          {links.data.items.length} of {links.data.limit} links.
        </p>
      )}
    </Dialog>
  );
}
