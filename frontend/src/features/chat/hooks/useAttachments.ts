import { useCallback, useEffect, useRef, useState } from "react";

import { getAttachment, requestUpload, uploadToStorage } from "@/features/chat/api/attachments";
import { ApiError } from "@/lib/http";
import { useSession } from "@/lib/session";

export type PendingState = "uploading" | "processing" | "ready" | "rejected";

export interface PendingFile {
  key: string;
  name: string;
  size: number;
  isImage: boolean;
  /** A local preview of an image (object URL), before and after upload. */
  preview?: string;
  state: PendingState;
  progress: number;
  attachmentId?: string;
  /** Why it was refused, as a sentence. */
  reason?: string;
}

export interface AttachmentsController {
  files: PendingFile[];
  add: (files: Iterable<File>) => void;
  remove: (key: string) => void;
  clear: () => void;
  /** Ids of the files ready to send. */
  readyIds: () => string[];
  /** A file is still uploading or being checked. */
  busy: boolean;
  /** The assistant cannot see images here: it is told one was attached. */
  imagesUnseen: boolean;
  limit: number;
}

const POLL_MS = 500;
const MAX_FILES = 10;
let counter = 0;

/** The files attached to the message being written: uploaded, checked, removable, until sent. */
export function useAttachments(conversationId: string): AttachmentsController {
  const { http } = useSession();
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [imagesUnseen, setImagesUnseen] = useState(false);
  const aborts = useRef(new Map<string, AbortController>());

  const patch = useCallback((key: string, change: Partial<PendingFile>) => {
    setFiles((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));
  }, []);

  const forget = useCallback((file: PendingFile) => {
    aborts.current.get(file.key)?.abort();
    aborts.current.delete(file.key);
    if (file.preview) URL.revokeObjectURL(file.preview);
  }, []);

  const start = useCallback(
    async (key: string, file: File, signal: AbortSignal) => {
      try {
        const grant = await requestUpload(http, conversationId, file);
        if (!grant.assistantSeesImages && file.type.startsWith("image/")) setImagesUnseen(true);
        patch(key, { attachmentId: grant.attachment.id });
        await uploadToStorage(grant, file, (progress) => patch(key, { progress }), signal);
        patch(key, { state: "processing", progress: 1 });
        for (;;) {
          const found = await getAttachment(http, conversationId, grant.attachment.id, signal);
          if (found.status === "ready") return patch(key, { state: "ready" });
          if (found.status === "rejected")
            return patch(key, { state: "rejected", reason: found.reasonMessage ?? "The file was refused." });
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          if (signal.aborted) return;
        }
      } catch (error) {
        if (signal.aborted) return;
        const reason = error instanceof ApiError || error instanceof Error ? error.message : "The upload failed.";
        patch(key, { state: "rejected", reason });
      }
    },
    [http, conversationId, patch],
  );

  const count = useRef(0);
  count.current = files.length;

  const add = useCallback(
    (incoming: Iterable<File>) => {
      const chosen = [...incoming];
      const room = Math.max(0, MAX_FILES - count.current);
      const uploads = chosen.slice(0, room).map((file) => ({ file, key: `f${++counter}` }));
      const entries = uploads.map(({ file, key }): PendingFile => {
        const isImage = file.type.startsWith("image/");
        return {
          key,
          name: file.name || "pasted image",
          size: file.size,
          isImage,
          preview: isImage ? URL.createObjectURL(file) : undefined,
          state: "uploading",
          progress: 0,
        };
      });
      const refused = chosen.slice(room).map(
        (file): PendingFile => ({
          key: `f${++counter}`,
          name: file.name,
          size: file.size,
          isImage: false,
          state: "rejected",
          progress: 0,
          reason: `A message carries at most ${MAX_FILES} files.`,
        }),
      );
      count.current += entries.length + refused.length;
      setFiles((all) => [...all, ...entries, ...refused]);
      for (const { file, key } of uploads) {
        const controller = new AbortController();
        aborts.current.set(key, controller);
        void start(key, file, controller.signal);
      }
    },
    [start],
  );

  const remove = useCallback(
    (key: string) =>
      setFiles((all) => {
        const file = all.find((f) => f.key === key);
        if (file) forget(file);
        return all.filter((f) => f.key !== key);
      }),
    [forget],
  );

  const clear = useCallback(
    () =>
      setFiles((all) => {
        all.forEach(forget);
        return [];
      }),
    [forget],
  );

  useEffect(() => clear, [conversationId, clear]);

  return {
    files,
    add,
    remove,
    clear,
    readyIds: () => files.filter((f) => f.state === "ready" && f.attachmentId).map((f) => f.attachmentId!),
    busy: files.some((f) => f.state === "uploading" || f.state === "processing"),
    imagesUnseen: imagesUnseen && files.some((f) => f.isImage),
    limit: MAX_FILES,
  };
}
