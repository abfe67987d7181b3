import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Assistant, AssistantList, RoomAssistant, RoomAssistantList } from "@/types/api";

export interface AssistantInput {
  name: string;
  handle: string;
  instructions: string;
  model?: string;
  temperature: number;
}

/** The longest instructions the API takes (`parley.models.MAX_INSTRUCTIONS_CHARS`). */
export const MAX_INSTRUCTIONS = 8000;
/** What a handle is made of (`parley.models.HANDLE_PATTERN`). */
export const HANDLE_PATTERN = /^[a-z0-9][a-z0-9-]{1,31}$/;

/** What is wrong with a handle, in words; null when it is fine. */
export function handleProblem(handle: string): string | null {
  if (handle === "assistant") return "“assistant” is the default assistant's handle.";
  if (!HANDLE_PATTERN.test(handle)) return "2–32 lowercase letters, digits and dashes, starting with a letter or digit.";
  return null;
}

const one = (id: string) => `/assistants/${encodeURIComponent(id)}`;
const inRoom = (id: string) => `/conversations/${encodeURIComponent(id)}/assistants`;

/** GET /assistants */
export function useAssistants() {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.assistants,
    queryFn: ({ signal }) => http.request<AssistantList>("/assistants", { signal }),
  });
}

/** POST /assistants, or PATCH /assistants/{id} with `id`. */
export function useSaveAssistant() {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, input }: { id?: string; input: AssistantInput }) =>
      id
        ? http.request<Assistant>(one(id), { method: "PATCH", body: input })
        : http.request<Assistant>("/assistants", { method: "POST", body: input }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.assistants }),
  });
}

/** DELETE /assistants/{id} */
export function useDeleteAssistant() {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => http.request<void>(one(id), { method: "DELETE" }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.assistants });
      void queryClient.invalidateQueries({ queryKey: ["room-assistants"] });
    },
  });
}

/** GET /conversations/{id}/assistants: who the room's members may call with @handle. */
export function useRoomAssistants(conversationId: string, enabled = true) {
  const { http } = useSession();
  return useQuery({
    queryKey: queryKeys.roomAssistants(conversationId),
    queryFn: ({ signal }) => http.request<RoomAssistantList>(inRoom(conversationId), { signal }),
    enabled,
  });
}

/** POST /conversations/{id}/assistants (the room's owner, one of their assistants). */
export function useAddRoomAssistant(conversationId: string) {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (assistantId: string) =>
      http.request<RoomAssistant>(inRoom(conversationId), { method: "POST", body: { assistantId } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.roomAssistants(conversationId) }),
  });
}

/** DELETE /conversations/{id}/assistants/{assistantId} */
export function useRemoveRoomAssistant(conversationId: string) {
  const { http } = useSession();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (assistantId: string) =>
      http.request<void>(`${inRoom(conversationId)}/${encodeURIComponent(assistantId)}`, { method: "DELETE" }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: queryKeys.roomAssistants(conversationId) }),
  });
}
