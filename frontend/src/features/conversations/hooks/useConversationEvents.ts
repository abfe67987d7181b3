import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { queryKeys } from "@/lib/query-keys";
import { useConnectionState, useRealtimeEvents } from "@/lib/realtime-context";

/**
 * Keeps the conversation list live on every device: the server tells each connection of the
 * signed-in user when they were added to a conversation, when one of theirs was renamed, and
 * when one left their list (removed, left elsewhere, deleted). After a reconnect the list is read
 * again, since events sent while offline reached nobody.
 */
export function useConversationEvents(): void {
  const queryClient = useQueryClient();
  const connection = useConnectionState();
  const wasOpen = useRef(false);

  useRealtimeEvents((event) => {
    if (event.type === "conversation.added" || event.type === "conversation.updated") {
      queryClient.setQueryData(queryKeys.conversation(event.conversation.id), event.conversation);
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    } else if (event.type === "conversation.removed") {
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
      // An open page of it learns it is gone (404: "does not exist or you are not a member").
      void queryClient.invalidateQueries({ queryKey: queryKeys.conversation(event.conversationId) });
    }
  });

  useEffect(() => {
    if (connection !== "open") return;
    if (wasOpen.current) void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
    wasOpen.current = true;
  }, [connection, queryClient]);
}
