import { useMutation, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Conversation } from "@/types/api";

export interface CreateConversationInput {
  title?: string;
  kind?: "assistant" | "group";
  /** A catalog model's id (`GET /models`); absent: the environment's default. */
  model?: string;
  /** One of the caller's assistants: the chat answers with its instructions and model. */
  assistantId?: string;
}

/** POST /conversations */
export function useCreateConversation() {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateConversationInput) =>
      http.request<Conversation>("/conversations", { method: "POST", body: input }),
    onSuccess: (conversation) => {
      queryClient.setQueryData(queryKeys.conversation(conversation.id), conversation);
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    },
  });
}
