import { useMutation, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Conversation } from "@/types/api";

/** PATCH /conversations/{id} */
export function useRenameConversation() {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) =>
      http.request<Conversation>(`/conversations/${encodeURIComponent(id)}`, { method: "PATCH", body: { title } }),
    onSuccess: (conversation) => {
      queryClient.setQueryData(queryKeys.conversation(conversation.id), conversation);
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    },
  });
}
