import { createContext, useContext, useEffect, useRef, useSyncExternalStore } from "react";
import type { ReactNode } from "react";

import type { ConnectionState, RealtimeClient } from "@/lib/realtime";
import type { ServerEvent } from "@/types/ws";

const RealtimeContext = createContext<RealtimeClient | null>(null);

/** Makes the signed-in user's WebSocket available to every feature and keeps it running. */
export function RealtimeProvider({ client, children }: { client: RealtimeClient; children: ReactNode }) {
  useEffect(() => {
    client.start();
    const online = () => client.reconnectNow();
    const offline = () => client.dropConnection();
    window.addEventListener("online", online);
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("online", online);
      window.removeEventListener("offline", offline);
      client.stop();
    };
  }, [client]);
  return <RealtimeContext.Provider value={client}>{children}</RealtimeContext.Provider>;
}

export function useRealtime(): RealtimeClient {
  const client = useContext(RealtimeContext);
  if (!client) throw new Error("useRealtime must be used inside RealtimeProvider");
  return client;
}

export function useConnectionState(): ConnectionState {
  const client = useRealtime();
  return useSyncExternalStore(
    (notify) => client.onState(notify),
    () => client.connectionState,
  );
}

/** Calls the latest `handler` for every server event, without resubscribing on each render. */
export function useRealtimeEvents(handler: (event: ServerEvent) => void): void {
  const client = useRealtime();
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client.onEvent((event) => latest.current(event)), [client]);
}

/** Subscribes to a conversation's room while the component is mounted. */
export function useConversationSubscription(conversationId: string | null): void {
  const client = useRealtime();
  useEffect(() => {
    if (!conversationId) return;
    client.subscribe(conversationId);
    return () => client.unsubscribe(conversationId);
  }, [client, conversationId]);
}
