import { useInfiniteQuery } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Conversation, Page } from "@/types/api";

/** GET /conversations — most recent activity first, page by page. */
export function useConversations() {
  const { http } = useSession();
  return useInfiniteQuery({
    queryKey: queryKeys.conversations,
    queryFn: ({ pageParam, signal }) =>
      http.request<Page<Conversation>>("/conversations", { query: { cursor: pageParam, limit: 50 }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    // An invitation to a room has no live event: look again when the person comes back.
    refetchOnWindowFocus: true,
  });
}
