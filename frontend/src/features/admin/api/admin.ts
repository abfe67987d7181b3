import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useSession } from "@/lib/session";
import type { components } from "@/types/admin.gen";

/** The admin API's shapes, generated from admin_api's OpenAPI document (`invoke gen-types`). */
type Schemas = components["schemas"];
export type AdminUser = Schemas["AdminUser"];
export type AdminUserDetail = Schemas["AdminUserDetail"];
export type AdminUserPage = Schemas["AdminUserPage"];
export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["AuditPage"];
export type DayTotal = Schemas["DayTotal"];
export type Totals = Schemas["Totals"];

const PAGE = 20;

/** GET /admin/users — a page of users whose e-mail starts with `query`. */
export function useAdminUsers(query: string, cursor: string | null) {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "users", query, cursor] as const,
    queryFn: ({ signal }) =>
      http.request<AdminUserPage>("/admin/users", { query: { q: query, limit: PAGE, cursor }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useAdminUser(id: string) {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "user", id] as const,
    queryFn: ({ signal }) => http.request<AdminUserDetail>(`/admin/users/${encodeURIComponent(id)}`, { signal }),
  });
}

export type UserChange = { kind: "quota"; dailyTokens: number | null } | { kind: "disable" } | { kind: "enable" };

/** Quota override set or cleared, disable, enable: each answers the user as they are now. */
export function useChangeUser(id: string) {
  const { http } = useSession();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (change: UserChange) => {
      const path = `/admin/users/${encodeURIComponent(id)}`;
      if (change.kind === "quota") {
        return change.dailyTokens === null
          ? http.request<AdminUserDetail>(`${path}/quota`, { method: "DELETE" })
          : http.request<AdminUserDetail>(`${path}/quota`, { method: "PUT", body: { dailyTokens: change.dailyTokens } });
      }
      return http.request<AdminUserDetail>(`${path}/${change.kind}`, { method: "POST" });
    },
    onSuccess: (user) => {
      client.setQueryData(["admin", "user", id], user);
      void client.invalidateQueries({ queryKey: ["admin", "users"] });
      void client.invalidateQueries({ queryKey: ["admin", "audit"] });
    },
  });
}

export function useAudit(cursor: string | null) {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "audit", cursor] as const,
    queryFn: ({ signal }) => http.request<AuditPage>("/admin/audit", { query: { limit: 50, cursor }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useTotals() {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "totals"] as const,
    queryFn: ({ signal }) => http.request<Totals>("/admin/totals", { signal }),
  });
}
