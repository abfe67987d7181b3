import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";

import { rateReply, removeRating } from "@/features/chat/api/feedback";
import { queryKeys } from "@/lib/query-keys";
import { useSession } from "@/lib/session";
import type { Feedback, Rating } from "@/types/api";

export type FeedbackAction = { kind: "rate"; rating: Rating; comment?: string } | { kind: "remove" };

/** A rating changed here, and when: it wins over a listing older than it. */
interface Changed {
  value: Feedback | null;
  at: string;
}

export interface FeedbackState {
  /** The rating shown: the one being saved, else the latest known. */
  rating: Rating | null;
  comment: string | null;
  saving: boolean;
  /** Why the last change was not saved (the rating shown is the earlier one). */
  error: string | null;
  /** What a screen reader is told once a change is saved. */
  announcement: string;
  rate: (rating: Rating, comment?: string) => void;
  remove: () => void;
  retry: () => void;
  dismissError: () => void;
}

const ANNOUNCE: Record<Rating, string> = { up: "Rated helpful", down: "Rated not helpful" };

/**
 * My rating of one reply: what the listing said (`saved`), overridden by what I changed since
 * (kept per conversation in the query cache, so it survives the reply being unmounted — a
 * branch switch — and covers replies that arrived live, which no listing has yet).
 */
export function useFeedback(conversationId: string, messageId: string, saved: Feedback | null): FeedbackState {
  const { http } = useSession();
  const queryClient = useQueryClient();
  const key = queryKeys.feedback(conversationId);
  const { data: changes } = useQuery<Record<string, Changed>>({
    queryKey: key,
    queryFn: () => ({}),
    initialData: {},
    enabled: false,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  const changed = changes[messageId];
  const known = changed && !(saved && saved.updatedAt > changed.at) ? changed.value : saved;

  const mutation = useMutation({
    mutationFn: async (action: FeedbackAction): Promise<Feedback | null> =>
      action.kind === "rate"
        ? rateReply(http, conversationId, messageId, action.rating, action.comment)
        : removeRating(http, conversationId, messageId).then(() => null),
    onSuccess: (value) => {
      const entry: Changed = { value, at: value?.updatedAt ?? new Date().toISOString() };
      queryClient.setQueryData<Record<string, Changed>>(key, (all) => ({ ...all, [messageId]: entry }));
    },
  });

  const pending = mutation.isPending ? mutation.variables : undefined;
  const rating = pending ? (pending.kind === "rate" ? pending.rating : null) : (known?.rating ?? null);
  const comment = pending ? (pending.kind === "rate" ? (pending.comment ?? null) : null) : (known?.comment ?? null);

  const { mutate, reset, variables } = mutation;
  const run = useCallback(
    (action: FeedbackAction) => {
      if (!mutation.isPending) mutate(action);
    },
    [mutate, mutation.isPending],
  );
  const rate = useCallback((value: Rating, text?: string) => run({ kind: "rate", rating: value, comment: text?.trim() || undefined }), [run]);
  const remove = useCallback(() => run({ kind: "remove" }), [run]);
  const retry = useCallback(() => {
    if (variables) run(variables);
  }, [run, variables]);

  let announcement = "";
  if (mutation.isSuccess) {
    const done = mutation.variables;
    announcement = done.kind === "remove" ? "Rating removed" : done.comment ? "Comment saved" : ANNOUNCE[done.rating];
  }
  return {
    rating,
    comment,
    saving: mutation.isPending,
    error: mutation.isError ? mutation.error.message : null,
    announcement,
    rate,
    remove,
    retry,
    dismissError: reset,
  };
}
