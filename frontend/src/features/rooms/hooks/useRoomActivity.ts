import { useCallback, useEffect, useRef, useState } from "react";

import { useRealtime, useRealtimeEvents } from "@/lib/realtime-context";
import { useSession } from "@/lib/session";
import type { PresenceUser } from "@/types/ws";

const TYPING_TTL_MS = 6000;
const TYPING_REPEAT_MS = 3000;

/** Who is online in the room, from the server's `presence` events. */
export function usePresence(conversationId: string): PresenceUser[] | null {
  const [online, setOnline] = useState<PresenceUser[] | null>(null);
  useRealtimeEvents((event) => {
    if (event.type === "presence" && event.conversationId === conversationId) setOnline(event.online);
  });
  return online;
}

/**
 * Who else is typing: an entry lasts until they stop, send, or fall silent for a few seconds
 * (a lost "stopped typing" must not leave the indicator on forever).
 */
export function useTypingUsers(conversationId: string, now: () => number = Date.now): PresenceUser[] {
  const { userId } = useSession();
  const [typing, setTyping] = useState<Record<string, { name: string; until: number }>>({});
  useRealtimeEvents((event) => {
    if (event.type === "typing" && event.conversationId === conversationId && event.userId !== userId) {
      setTyping((current) => {
        const next = { ...current };
        if (event.isTyping) next[event.userId] = { name: event.name, until: now() + TYPING_TTL_MS };
        else delete next[event.userId];
        return next;
      });
    }
    if (event.type === "message.created" && event.conversationId === conversationId) {
      setTyping((current) => {
        if (!(event.message.authorId in current)) return current;
        const next = { ...current };
        delete next[event.message.authorId];
        return next;
      });
    }
  });
  const entries = Object.entries(typing);
  useEffect(() => {
    if (entries.length === 0) return;
    const timer = setInterval(() => {
      setTyping((current) => Object.fromEntries(Object.entries(current).filter(([, v]) => v.until > now())));
    }, 1000);
    return () => clearInterval(timer);
  }, [entries.length, now]);
  return entries.map(([userId, v]) => ({ userId, name: v.name })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Sends typing signals sparingly: on start, every few seconds while it goes on, and on stop. */
export function useTypingSender(conversationId: string): (isTyping: boolean) => void {
  const client = useRealtime();
  const lastSent = useRef<{ isTyping: boolean; at: number }>({ isTyping: false, at: 0 });
  const idle = useRef<ReturnType<typeof setTimeout> | null>(null);
  const send = useCallback(
    (isTyping: boolean) => {
      lastSent.current = { isTyping, at: Date.now() };
      client.send({ action: "typing", conversationId, isTyping });
    },
    [client, conversationId],
  );
  useEffect(
    () => () => {
      if (idle.current) clearTimeout(idle.current);
    },
    [],
  );
  return useCallback(
    (isTyping: boolean) => {
      if (idle.current) clearTimeout(idle.current);
      if (!isTyping) {
        if (lastSent.current.isTyping) send(false);
        return;
      }
      if (!lastSent.current.isTyping || Date.now() - lastSent.current.at > TYPING_REPEAT_MS) send(true);
      idle.current = setTimeout(() => send(false), TYPING_REPEAT_MS + 1000);
    },
    [send],
  );
}
