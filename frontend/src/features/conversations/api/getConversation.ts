import { useQuery } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Conversation } from "@/types/api";

/** GET /conversations/{id} */
export function useConversation(id: string) {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.conversation(id),
    queryFn: ({ signal }) => http.request<Conversation>(`/conversations/${encodeURIComponent(id)}`, { signal }),
    retry: (count, error) => count < 2 && !("status" in error && error.status === 404),
  });
}
