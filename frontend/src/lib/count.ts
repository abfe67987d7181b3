/** "1 message", "3 messages", "1,200 tokens": a count with the noun it agrees with. */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? singular : plural}`;
}
