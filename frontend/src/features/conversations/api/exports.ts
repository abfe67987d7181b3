import { useMutation } from "@tanstack/react-query";

import { useSession } from "@/lib/session";
import type { components } from "@/types/api.gen";

export type ExportStatus = components["schemas"]["ExportStatus"];
export type ExportFormat = ExportStatus["format"];

/** POST /conversations/{id}/exports — starts an export; answers at once, `running`. */
export function useStartExport(conversationId: string) {
  const { http } = useSession();
  return useMutation({
    mutationFn: (format: ExportFormat) =>
      http.request<ExportStatus>(`/conversations/${encodeURIComponent(conversationId)}/exports`, {
        method: "POST",
        body: { format },
      }),
  });
}

/** GET /exports/{id} — my export's status, with a fresh download link while it is ready. */
export function useExportStatusReader() {
  const { http } = useSession();
  return (id: string, signal?: AbortSignal) =>
    http.request<ExportStatus>(`/exports/${encodeURIComponent(id)}`, { signal });
}
