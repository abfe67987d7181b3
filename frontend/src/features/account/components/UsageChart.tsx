import { useId } from "react";

import type { UsageDay } from "@/features/account/api/getUsage";
import { count } from "@/lib/count";
import { formatUsd } from "@/lib/money";

const WIDTH = 300;
const HEIGHT = 80;

function dayLabel(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}

/** One sentence a screen reader gets instead of the bars. */
export function describeUsage(days: UsageDay[]): string {
  const first = days[0];
  const last = days[days.length - 1];
  if (!first || !last) return "No activity to show.";
  const total = days.reduce((sum, d) => sum + d.messages, 0);
  const span = `${dayLabel(first.date)} to ${dayLabel(last.date)}`;
  if (total === 0) return `No messages from ${span}.`;
  const busiest = days.reduce((best, d) => (d.messages > best.messages ? d : best), first);
  return `${count(total, "message")} from ${span}; the busiest day was ${dayLabel(busiest.date)} with ${busiest.messages}.`;
}

/**
 * Messages per day as bars, with the same figures as a table for anyone who cannot see the chart
 * (the SVG is decorative: its summary sentence and the table carry the data).
 */
export function UsageChart({ days }: { days: UsageDay[] }) {
  const captionId = useId();
  const most = Math.max(1, ...days.map((d) => d.messages));
  const slot = days.length ? WIDTH / days.length : WIDTH;
  const bar = Math.max(1, slot - 2);
  return (
    <figure className="usage-chart" aria-labelledby={captionId}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} width="100%" height={HEIGHT} aria-hidden="true" focusable="false">
        <line x1={0} y1={HEIGHT - 0.5} x2={WIDTH} y2={HEIGHT - 0.5} className="usage-axis" />
        {days.map((d, i) => {
          const height = d.messages ? Math.max(2, (d.messages / most) * (HEIGHT - 4)) : 0;
          return (
            <rect
              key={d.date}
              data-date={d.date}
              className="usage-bar"
              x={i * slot + 1}
              y={HEIGHT - height}
              width={bar}
              height={height}
            >
              <title>{`${dayLabel(d.date)}: ${count(d.messages, "message")}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption id={captionId} className="muted small">
        {describeUsage(days)}
      </figcaption>
      <details className="usage-table">
        <summary>Show as a table</summary>
        <table>
          <caption className="visually-hidden">My activity per day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Messages</th>
              <th scope="col">Tokens in</th>
              <th scope="col">Tokens out</th>
              <th scope="col">Stopped</th>
              <th scope="col">Failed</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => (
              <tr key={d.date}>
                <th scope="row">{dayLabel(d.date)}</th>
                <td>{d.messages}</td>
                <td>{d.inputTokens}</td>
                <td>{d.outputTokens}</td>
                <td>{d.repliesStopped}</td>
                <td>{d.repliesFailed}</td>
                <td>{formatUsd(d.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
