import type { AttachmentsController, PendingFile } from "@/features/chat/hooks/useAttachments";

const STATE_TEXT: Record<PendingFile["state"], string> = {
  uploading: "Uploading",
  processing: "Checking",
  ready: "Ready",
  rejected: "Refused",
};

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The files attached to the message being written: each with its state, removable. */
export function AttachmentTray({ attachments }: { attachments: AttachmentsController }) {
  if (attachments.files.length === 0) return null;
  return (
    <div className="attachment-tray">
      <ul aria-label="Attached files">
        {attachments.files.map((file) => (
          <li key={file.key} className={`attachment-chip is-${file.state}`} data-state={file.state}>
            {file.preview ? (
              <img className="attachment-thumb" src={file.preview} alt="" />
            ) : (
              <span className="attachment-icon" aria-hidden="true">
                📄
              </span>
            )}
            <span className="attachment-meta">
              <span className="attachment-name">{file.name}</span>
              <span className="attachment-state" role={file.state === "rejected" ? "alert" : "status"}>
                {STATE_TEXT[file.state]}
                {file.state === "uploading" && ` ${Math.round(file.progress * 100)}%`}
                {file.state === "rejected" && file.reason ? `: ${file.reason}` : ` · ${formatSize(file.size)}`}
              </span>
              {file.state === "uploading" && (
                <progress max={1} value={file.progress} aria-label={`Uploading ${file.name}`} />
              )}
            </span>
            <button
              type="button"
              className="attachment-remove"
              aria-label={`Remove ${file.name}`}
              onClick={() => attachments.remove(file.key)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {attachments.imagesUnseen && (
        <p className="muted attachment-note" role="note">
          This assistant cannot see images: it will only be told an image is attached.
        </p>
      )}
    </div>
  );
}
