import { useInfiniteQuery } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { ListedMessage, Page } from "@/types/api";

export const MESSAGE_PAGE_SIZE = 30;

/** GET /conversations/{id}/messages — newest first; the next page holds older messages. */
export function useMessages(conversationId: string) {
  const { http } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.messages(conversationId),
    queryFn: ({ pageParam, signal }) =>
      http.request<Page<ListedMessage>>(`/conversations/${encodeURIComponent(conversationId)}/messages`, {
        query: { cursor: pageParam, limit: MESSAGE_PAGE_SIZE },
        signal,
      }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // Live events keep the conversation current; refetching would only race them.
    staleTime: Infinity,
  });
}
