/** Query keys shared by features, so one feature's event can refresh another's data. */
export const queryKeys = {
  conversations: ["conversations"] as const,
  conversation: (id: string) => ["conversation", id] as const,
  messages: (id: string) => ["messages", id] as const,
  /** The ratings changed here, by message id (they win over an older listing). */
  feedback: (id: string) => ["feedback", id] as const,
  members: (id: string) => ["members", id] as const,
  me: ["me"] as const,
  /** The models the caller may choose (`GET /models`). */
  models: ["models"] as const,
  /** A conversation's share links (its owner's). */
  shares: (id: string) => ["shares", id] as const,
  /** The caller's assistants, and the assistants a room added. */
  assistants: ["assistants"] as const,
  roomAssistants: (id: string) => ["room-assistants", id] as const,
};
