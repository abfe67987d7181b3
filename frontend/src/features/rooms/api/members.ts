import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Member } from "@/types/api";

const path = (id: string) => `/conversations/${encodeURIComponent(id)}/members`;

/** GET /conversations/{id}/members */
export function useMembers(conversationId: string) {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.members(conversationId),
    queryFn: ({ signal }) => http.request<{ items: Member[] }>(path(conversationId), { signal }).then((r) => r.items),
  });
}

/** POST /conversations/{id}/members — invite by email (group owner only). */
export function useInviteMember(conversationId: string) {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (email: string) => http.request<Member>(path(conversationId), { method: "POST", body: { email } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.members(conversationId) }),
  });
}

/** DELETE /conversations/{id}/members/{userId} — the owner removes someone, anyone leaves. */
export function useRemoveMember(conversationId: string) {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (userId: string) =>
      http.request<void>(`${path(conversationId)}/${encodeURIComponent(userId)}`, { method: "DELETE" }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.members(conversationId) });
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    },
  });
}
