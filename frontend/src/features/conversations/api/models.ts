import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Conversation, ModelList } from "@/types/api";

/** GET /models: the models the caller may choose; the catalog changes rarely. */
export function useModels() {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.models,
    queryFn: ({ signal }) => http.request<ModelList>("/models", { signal }),
    staleTime: 5 * 60_000,
  });
}

/** PATCH /conversations/{id} with a model: the model that writes the next reply. */
export function useSetConversationModel() {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, model }: { id: string; model: string }) =>
      http.request<Conversation>(`/conversations/${encodeURIComponent(id)}`, { method: "PATCH", body: { model } }),
    onSuccess: (conversation) => {
      queryClient.setQueryData(queryKeys.conversation(conversation.id), conversation);
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    },
  });
}

/** The longest message a conversation's model takes whole (its own window, not the default's). */
export function messageCharsOf(list: ModelList | undefined, model: string | null | undefined): number | undefined {
  const id = model ?? list?.default;
  return list?.items.find((m) => m.id === id)?.messageChars;
}

/** Each model's label by id, for showing which model wrote a reply. */
export function modelNames(list: ModelList | undefined): Record<string, string> {
  return Object.fromEntries((list?.items ?? []).map((m) => [m.id, m.label]));
}
