/** "Ana is typing…" — always takes its line, so messages do not jump when it appears. */
export function TypingIndicator({ names }: { names: string[] }) {
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names.length} people are typing…`;
  return (
    <p className="typing" aria-live="polite">
      {text}
    </p>
  );
}
