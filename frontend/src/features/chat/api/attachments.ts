import type { HttpClient } from "@/lib/http";
import type { Attachment, AttachmentDownload, UploadGrant } from "@/types/api";

const base = (conversationId: string) => `/conversations/${encodeURIComponent(conversationId)}`;

/** Types a browser may not name (or names oddly): code and text files go as what they are. */
const BY_EXTENSION: Record<string, string> = {
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  json: "application/json",
  txt: "text/plain",
  log: "text/plain",
  py: "text/x-python",
  js: "text/javascript",
  mjs: "text/javascript",
  ts: "text/x-typescript",
  tsx: "text/x-typescript",
  jsx: "text/javascript",
  java: "text/x-java-source",
  c: "text/x-c",
  h: "text/x-c",
  cpp: "text/x-c++",
  go: "text/x-go",
  rs: "text/x-rust",
  sh: "text/x-shellscript",
  sql: "text/x-sql",
  yaml: "text/yaml",
  yml: "text/yaml",
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
};

/** The type to declare for a file: from its extension when the browser's is missing or vague. */
export function contentTypeOf(file: File): string {
  const extension = file.name.includes(".") ? file.name.split(".").pop()!.toLowerCase() : "";
  const known = BY_EXTENSION[extension];
  if (file.type.startsWith("image/") || file.type === "application/pdf") return file.type;
  return known ?? (file.type || "text/plain");
}

/** POST /conversations/{id}/uploads — a presigned POST for one file. */
export function requestUpload(http: HttpClient, conversationId: string, file: File): Promise<UploadGrant> {
  return http.request<UploadGrant>(`${base(conversationId)}/uploads`, {
    method: "POST",
    body: { name: file.name || "pasted", contentType: contentTypeOf(file), size: file.size },
  });
}

/** GET …/attachments/{id} — pending until the upload processor has checked the file. */
export function getAttachment(http: HttpClient, conversationId: string, attachmentId: string, signal?: AbortSignal) {
  return http.request<Attachment>(`${base(conversationId)}/attachments/${encodeURIComponent(attachmentId)}`, { signal });
}

/** GET …/attachments/{id}/download — a link valid for minutes. */
export function downloadLink(http: HttpClient, conversationId: string, attachmentId: string) {
  return http.request<AttachmentDownload>(
    `${base(conversationId)}/attachments/${encodeURIComponent(attachmentId)}/download`,
  );
}

/** Posts the file to S3 with the grant's form, reporting progress (0–1). */
export function uploadToStorage(
  grant: UploadGrant,
  file: File,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(grant.fields)) form.append(name, value);
    form.append("file", file);
    const request = new XMLHttpRequest();
    request.open("POST", grant.url);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () =>
      request.status >= 200 && request.status < 300
        ? resolve()
        : reject(new Error(storageError(request.responseText, request.status)));
    request.onerror = () => reject(new Error("The upload could not reach storage. Check your connection."));
    signal.addEventListener("abort", () => request.abort());
    request.send(form);
  });
}

function storageError(xml: string, status: number): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
  if (code === "EntityTooLarge") return "The file is larger than allowed.";
  if (status === 403) return "The upload was refused (its permission may have expired). Try again.";
  return "The upload failed.";
}
