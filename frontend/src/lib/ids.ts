/** A client message id: lets the server store a resent message only once. */
export function newClientMessageId(): string {
  return crypto.randomUUID();
}
