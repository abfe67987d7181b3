import { useQuery } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Me } from "@/types/api";

/** GET /me — the profile (its name may be richer than the token's claims) and today's usage. */
export function useMe() {
  const { http } = useSession();
  return useQuery({ queryKey: queryKeys.me, queryFn: ({ signal }) => http.request<Me>("/me", { signal }) });
}
