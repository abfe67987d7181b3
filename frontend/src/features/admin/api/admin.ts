import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { useSession } from "@/lib/session";

/** The admin API's shapes (admin_api, `docs/contracts.md`); the API checks the role on every call. */
export interface UsageCounts {
  messages: number;
  inputTokens: number;
  outputTokens: number;
  repliesStopped: number;
  repliesFailed: number;
}

export interface AdminUser {
  id: string;
  email: string;
  name: string;
  status: "enabled" | "disabled";
  confirmed: boolean;
  cognitoStatus: string;
  createdAt: string | null;
  quotaOverride: number | null;
  dailyTokenQuota: number;
  tokensToday: number;
  activity: { today: UsageCounts & { date: string }; month: UsageCounts & { month: string } };
  lastActiveDay: string | null;
}

export interface AdminUserDetail extends AdminUser {
  usage: { date: string; inputTokens: number; outputTokens: number; dailyQuota: number; remaining: number | null };
  days: (UsageCounts & { date: string })[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actorId: string;
  actorEmail: string;
  action: "quota.set" | "quota.cleared" | "user.disabled" | "user.enabled";
  targetId: string;
  targetEmail: string;
  before: Record<string, number | boolean | null>;
  after: Record<string, number | boolean | null>;
}

export interface DayTotal {
  date: string;
  messages: number;
  replies: number;
  inputTokens: number;
  outputTokens: number;
  activeUsers: number;
}

const PAGE = 20;

/** GET /admin/users — a page of users whose e-mail starts with `query`. */
export function useAdminUsers(query: string, cursor: string | null) {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "users", query, cursor] as const,
    queryFn: ({ signal }) =>
      http.request<Page<AdminUser>>("/admin/users", { query: { q: query, limit: PAGE, cursor }, signal }),
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
    queryFn: ({ signal }) => http.request<Page<AuditEntry>>("/admin/audit", { query: { limit: 50, cursor }, signal }),
    placeholderData: keepPreviousData,
  });
}

export function useTotals() {
  const { http } = useSession();
  return useQuery({
    queryKey: ["admin", "totals"] as const,
    queryFn: ({ signal }) => http.request<{ from: string; to: string; days: DayTotal[] }>("/admin/totals", { signal }),
  });
}
