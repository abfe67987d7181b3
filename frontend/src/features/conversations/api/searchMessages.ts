import { useInfiniteQuery } from "@tanstack/react-query";

import { useSession } from "@/lib/session";
import type { components } from "@/types/api.gen";

export type SearchHit = components["schemas"]["SearchHit"];
export type SearchPage = components["schemas"]["SearchPage"];

/** Shorter queries are not sent: one letter would match half of every history. */
export const MIN_SEARCH_CHARS = 2;
export const MAX_SEARCH_CHARS = 200;

/** GET /search — the messages I can read that match `query`, best first, page by page. */
export function useSearchMessages(query: string) {
  const { http } = useSession();
  const q = query.trim();
  return useInfiniteQuery({
    queryKey: ["search", q] as const,
    queryFn: ({ pageParam, signal }) =>
      http.request<SearchPage>("/search", { query: { q, cursor: pageParam, limit: 20 }, signal }),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: q.length >= MIN_SEARCH_CHARS && q.length <= MAX_SEARCH_CHARS,
    // A message just sent is indexed a moment later: a search is worth repeating soon.
    staleTime: 5_000,
    retry: false,
  });
}
