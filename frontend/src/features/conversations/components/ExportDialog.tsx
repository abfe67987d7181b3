import { useEffect, useState } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { useExportStatusReader, useStartExport } from "@/features/conversations/api/exports";
import type { ExportFormat, ExportStatus } from "@/features/conversations/api/exports";
import { displayTitle } from "@/features/conversations/format";
import { useRealtimeEvents } from "@/lib/realtime-context";
import type { Conversation } from "@/types/api";

/** How often the dialog asks for the status while it waits (the WebSocket usually says first). */
export const EXPORT_POLL_MS = 3000;

const FORMATS: { value: ExportFormat; label: string; hint: string }[] = [
  { value: "md", label: "Markdown (.md)", hint: "Readable anywhere; keeps formatting and code." },
  { value: "json", label: "JSON (.json)", hint: "Every message with its ids, times and token usage." },
];

/** "Export" in a conversation's header: the button and its dialog. */
export function ExportButton({ conversation }: { conversation: Conversation }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="ghost" onClick={() => setOpen(true)} aria-haspopup="dialog">
        Export
      </Button>
      {open && <ExportDialog conversation={conversation} onClose={() => setOpen(false)} />}
    </>
  );
}

/**
 * Choose a format, start the export, wait (the server says `export.ready` or `export.failed`
 * over the WebSocket; the dialog also asks every few seconds, in case the socket is down), then
 * offer the download link, which works for a few minutes.
 */
export function ExportDialog({ conversation, onClose }: { conversation: Conversation; onClose: () => void }) {
  const [format, setFormat] = useState<ExportFormat>("md");
  const [status, setStatus] = useState<ExportStatus | null>(null);
  const start = useStartExport(conversation.id);
  const read = useExportStatusReader();
  const exportId = status?.id;
  const running = status?.status === "running";

  useRealtimeEvents((event) => {
    if (!exportId || (event.type !== "export.ready" && event.type !== "export.failed")) return;
    if (event.exportId !== exportId) return;
    setStatus((current) =>
      current && event.type === "export.ready"
        ? { ...current, status: "ready", downloadUrl: event.downloadUrl, downloadExpiresAt: event.downloadExpiresAt,
            fileName: event.fileName, messageCount: event.messageCount }
        : current && event.type === "export.failed"
          ? { ...current, status: "failed", error: event.reason }
          : current,
    );
  });

  useEffect(() => {
    if (!exportId || !running) return;
    const controller = new AbortController();
    const timer = setInterval(() => {
      read(exportId, controller.signal).then(
        (latest) => setStatus((current) => (current?.status === "running" ? latest : current)),
        () => undefined, // the next tick asks again
      );
    }, EXPORT_POLL_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [exportId, running, read]);

  const begin = () => start.mutate(format, { onSuccess: setStatus });
  const again = () => {
    setStatus(null);
    start.reset();
  };
  const title = displayTitle(conversation);

  return (
    <Dialog
      title={`Export “${title}”`}
      onClose={onClose}
      actions={
        status === null ? (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" busy={start.isPending} onClick={begin}>
              Export
            </Button>
          </>
        ) : status.status === "failed" || status.status === "expired" ? (
          <>
            <Button onClick={onClose}>Close</Button>
            <Button variant="primary" onClick={again}>
              Try again
            </Button>
          </>
        ) : (
          <Button onClick={onClose}>{running ? "Close (keeps going)" : "Close"}</Button>
        )
      }
    >
      {status === null && (
        <fieldset className="export-formats">
          <legend>Format</legend>
          {FORMATS.map((option) => (
            <label key={option.value} className="export-format">
              <input
                type="radio"
                name="export-format"
                value={option.value}
                checked={format === option.value}
                onChange={() => setFormat(option.value)}
              />
              <span>
                <strong>{option.label}</strong>
                <span className="muted"> {option.hint}</span>
              </span>
            </label>
          ))}
          {start.error && <Alert>{start.error.message}</Alert>}
        </fieldset>
      )}
      {running && (
        <div className="export-progress" aria-live="polite">
          <Spinner label="Export in progress" />
          <p>Preparing your export… A long history takes a little while; you can close this and keep chatting.</p>
        </div>
      )}
      {status?.status === "ready" && status.downloadUrl && (
        <div className="export-ready" aria-live="polite">
          <p>
            Your export is ready: {status.messageCount ?? 0} message{status.messageCount === 1 ? "" : "s"}.
          </p>
          <a className="btn btn-primary" href={status.downloadUrl} download={status.fileName ?? undefined}>
            Download {status.fileName}
          </a>
          {status.downloadExpiresAt && (
            <p className="muted">
              The link works until {new Date(status.downloadExpiresAt).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}.
            </p>
          )}
        </div>
      )}
      {status?.status === "failed" && <Alert>{status.error ?? "The export could not be completed."}</Alert>}
      {status?.status === "expired" && <Alert>This export’s file has expired. Export again to get a new one.</Alert>}
    </Dialog>
  );
}
