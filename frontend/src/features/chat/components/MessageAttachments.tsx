import { useEffect, useState } from "react";

import { Button } from "@/components/ui/Button";
import { formatSize } from "@/features/chat/components/AttachmentTray";
import { downloadLink } from "@/features/chat/api/attachments";
import { useSession } from "@/lib/session";
import type { MessageAttachment } from "@/types/api";

/** An image's thumbnail, fetched through a short-lived link and shown from memory (a blob). */
function Thumbnail({ conversationId, attachment }: { conversationId: string; attachment: MessageAttachment }) {
  const { http } = useSession();
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let shown: string | null = null;
    let live = true;
    void (async () => {
      try {
        const link = await downloadLink(http, conversationId, attachment.id);
        const response = await fetch(link.url);
        if (!response.ok || !live) return;
        shown = URL.createObjectURL(await response.blob());
        setUrl(shown);
      } catch {
        // The name and the download button remain.
      }
    })();
    return () => {
      live = false;
      if (shown) URL.revokeObjectURL(shown);
    };
  }, [http, conversationId, attachment.id]);
  return url ? <img className="message-attachment-thumb" src={url} alt={attachment.name} /> : null;
}

/** The files sent with a message, for everyone in the room: thumbnails and downloads. */
export function MessageAttachments({
  conversationId,
  attachments,
}: {
  conversationId: string;
  attachments: MessageAttachment[];
}) {
  const { http } = useSession();
  const [error, setError] = useState<string | null>(null);
  const download = async (attachment: MessageAttachment) => {
    setError(null);
    try {
      const link = await downloadLink(http, conversationId, attachment.id);
      const anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.rel = "noopener";
      anchor.click();
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : "The file could not be downloaded.");
    }
  };
  return (
    <ul className="message-attachments" aria-label="Attachments">
      {attachments.map((attachment) => (
        <li key={attachment.id} className="message-attachment">
          {attachment.kind === "image" && <Thumbnail conversationId={conversationId} attachment={attachment} />}
          <span className="attachment-name">{attachment.name}</span>
          <span className="muted"> · {formatSize(attachment.size)}</span>
          <Button variant="secondary" onClick={() => void download(attachment)} aria-label={`Download ${attachment.name}`}>
            Download
          </Button>
        </li>
      ))}
      {error && <li role="alert">{error}</li>}
    </ul>
  );
}
