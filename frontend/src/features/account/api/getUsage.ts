import { useQuery } from "@tanstack/react-query";

import { useSession } from "@/lib/session";
import type { components } from "@/types/api.gen";

export type UsageDay = components["schemas"]["UsageDay"];
export type UsageSeries = components["schemas"]["UsageSeries"];
export type Activity = components["schemas"]["Activity"];

/** GET /me/usage — my activity per UTC day, the last 30 days by default (fetched when shown). */
export function useUsage(enabled: boolean) {
  const { http } = useSession();
  return useQuery({
    queryKey: ["me", "usage"] as const,
    queryFn: ({ signal }) => http.request<UsageSeries>("/me/usage", { signal }),
    enabled,
    // Kept by the change feed within seconds of each message: worth refreshing on reopen.
    staleTime: 10_000,
  });
}
