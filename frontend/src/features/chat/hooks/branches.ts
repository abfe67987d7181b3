import type { DisplayMessage } from "@/features/chat/hooks/live-store";

/** A message's place among its versions (messages with the same parent), oldest first. */
export interface Versions {
  index: number;
  ids: string[];
}

export interface BranchMessage extends DisplayMessage {
  /** Set when the message has other versions (an edited question, a regenerated reply). */
  versions?: Versions;
}

/** Which version was chosen at a fork, by the id of the message the versions follow. */
export type Choices = Record<string, string>;

/**
 * The branch of a chat with the assistant that is shown: at every fork the version chosen, else
 * the newest (a failed reply counts only while nothing better answers its question). A message
 * follows its `parentId`, a reply its `replyTo`, and one stored before
 * branches the message before it. Only loaded pages are known: the branch starts where the
 * newest message's ancestry leaves them (older pages extend it as they load). Messages still on
 * their way to the server (`local`) come last.
 */
export function activeBranch(all: DisplayMessage[], conversationId: string, chosen: Choices): BranchMessage[] {
  const stored = all.filter((m) => !m.local);
  const pending = all.filter((m) => m.local);
  const parentOf = new Map<string, string>();
  const children = new Map<string, string[]>();
  const byId = new Map<string, DisplayMessage>();
  let previous = conversationId;
  for (const message of stored) {
    const parent = message.parentId ?? (message.role === "assistant" && message.replyTo ? message.replyTo : previous);
    parentOf.set(message.id, parent);
    children.set(parent, [...(children.get(parent) ?? []), message.id]);
    byId.set(message.id, message);
    previous = message.id;
  }
  const newest = stored.at(-1);
  if (!newest) return pending;
  let start = parentOf.get(newest.id)!;
  while (byId.has(start)) start = parentOf.get(start)!;

  // A failed reply is not a version once another reply to the same question exists.
  const worth = (ids: string[]) => {
    const answered = ids.filter((id) => byId.get(id)!.status !== "failed");
    return answered.length ? answered : ids;
  };
  const shown: BranchMessage[] = [];
  for (let at = start; ; ) {
    const next = worth(children.get(at) ?? []);
    if (!next.length) break;
    const wanted = chosen[at];
    const pick = wanted !== undefined && next.includes(wanted) ? wanted : next.at(-1)!;
    const message = byId.get(pick)!;
    shown.push(next.length > 1 ? { ...message, versions: { index: next.indexOf(pick), ids: next } } : message);
    at = pick;
  }
  return [...shown, ...pending];
}

/** The fork a message is a version at: the message it follows. */
export function forkOf(message: DisplayMessage, shown: DisplayMessage[], conversationId: string): string {
  if (message.parentId) return message.parentId;
  if (message.role === "assistant" && message.replyTo) return message.replyTo;
  const index = shown.findIndex((m) => m.id === message.id);
  return index > 0 ? shown[index - 1]!.id : conversationId;
}
