/** US dollars as people read them: cents from a cent up, else enough digits to show a fraction
 * of a cent (what one reply of a small model costs). */
export function formatUsd(usd: number): string {
  if (!(usd > 0)) return "$0";
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  const digits = Math.min(20, 1 - Math.floor(Math.log10(usd)));
  return `$${Number(usd.toPrecision(2)).toFixed(digits)}`;
}
