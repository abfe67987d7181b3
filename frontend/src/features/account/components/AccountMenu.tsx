import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useRef, useState } from "react";

import { useUsage } from "@/features/account/api/getUsage";
import type { Activity } from "@/features/account/api/getUsage";
import { TwoStepVerification } from "@/features/account/components/TwoStepVerification";
import { UsageChart } from "@/features/account/components/UsageChart";
import { Spinner } from "@/components/ui/Spinner";
import type { MfaMode } from "@/config/config";
import type { TwoStepAccount } from "@/features/auth/api/cognito";
import { count } from "@/lib/count";
import { formatUsd } from "@/lib/money";
import { hrefFor } from "@/lib/router";

function tokens(counts: { inputTokens: number; outputTokens: number }): string {
  return (counts.inputTokens + counts.outputTokens).toLocaleString();
}

/**
 * The account menu in the top bar: who is signed in, what they did today and this month (the
 * rollups of GET /me, read as stored, refreshed on opening), and messages per day over the last
 * 30 days, and two-step verification (unless the environment offers none: `mfa` OFF).
 * A disclosure: the button says whether it is open, Esc or a click outside closes it and gives
 * focus back to the button.
 */
export function AccountMenu({
  label,
  email,
  activity,
  twoStep,
  admin = false,
}: {
  label: string;
  email: string;
  activity: Activity | undefined;
  twoStep?: { mode: MfaMode; account: TwoStepAccount };
  /** An admin (the ID token's role): the menu links the admin console. */
  admin?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const ref = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const usage = useUsage(open);
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!open) return;
    const outside = (event: MouseEvent) => {
      if (ref.current && !ref.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", outside);
    return () => document.removeEventListener("mousedown", outside);
  }, [open]);
  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === "Escape" && open) {
      event.stopPropagation();
      setOpen(false);
      button.current?.focus();
    }
  };
  return (
    <div className="account-menu" ref={ref} onKeyDown={onKeyDown}>
      <button
        ref={button}
        type="button"
        className="btn btn-ghost user-name"
        title={email}
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => {
          // Opening reads the rollups again (GET /me and /me/usage): they move after each message.
          if (!open) void queryClient.invalidateQueries({ queryKey: ["me"] });
          setOpen(!open);
        }}
      >
        {label}
      </button>
      {open && (
        <section id={panelId} className="account-panel" aria-label="My account">
          <p className="small muted">Signed in as {email}</p>
          {admin && (
            <p>
              <a href={hrefFor({ name: "admin", view: "users" })} onClick={() => setOpen(false)}>
                Admin console
              </a>
            </p>
          )}
          <h2 className="account-heading">My activity</h2>
          {activity ? (
            <dl className="account-figures">
              <dt>Today</dt>
              <dd>
                {count(activity.today.messages, "message")}, {tokens(activity.today)} tokens, {formatUsd(activity.today.costUsd)}
              </dd>
              <dt>This month</dt>
              <dd>
                {count(activity.month.messages, "message")}, {tokens(activity.month)} tokens, {formatUsd(activity.month.costUsd)}
                {activity.month.repliesStopped + activity.month.repliesFailed > 0 &&
                  `, ${count(activity.month.repliesStopped, "reply", "replies")} stopped, ${activity.month.repliesFailed} failed`}
              </dd>
            </dl>
          ) : null}
          <h3 className="account-heading small">Messages per day, last 30 days</h3>
          {usage.data ? (
            <UsageChart days={usage.data.days} />
          ) : usage.isError ? (
            <p className="small" role="alert">
              Your activity could not be loaded. Close and open the menu to try again.
            </p>
          ) : (
            <Spinner label="Loading your activity" />
          )}
          {twoStep && twoStep.mode !== "OFF" && <TwoStepVerification mode={twoStep.mode} account={twoStep.account} />}
        </section>
      )}
    </div>
  );
}
