import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent } from "react";

import { Alert } from "@/components/ui/Alert";
import { ConfirmDialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { useAdminUser, useAdminUsers, useAudit, useChangeUser, useTotals } from "@/features/admin/api/admin";
import type { AdminUser, AdminUserDetail, AuditEntry } from "@/features/admin/api/admin";
import { hrefFor } from "@/lib/router";
import type { AdminView } from "@/lib/router";

const number = (value: number) => value.toLocaleString();
const quotaText = (tokens: number) => (tokens === 0 ? "unlimited" : `${number(tokens)} tokens a day`);

/**
 * The admin console: users (search, status, usage, last activity), one user's page (quota
 * override, disable and enable with confirmation), totals per day and the audit log. Shown
 * only to admins; the API refuses everyone else whatever this shows.
 */
export function AdminConsole({ view, userId }: { view: AdminView; userId?: string }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [view, userId]);
  const tabs: { view: AdminView; label: string }[] = [
    { view: "users", label: "Users" },
    { view: "totals", label: "Totals per day" },
    { view: "audit", label: "Audit log" },
  ];
  const current = view === "user" ? "users" : view;
  return (
    <div className="admin">
      <h1 ref={heading} tabIndex={-1}>
        Admin console
      </h1>
      <nav aria-label="Admin console">
        <ul className="admin-tabs">
          {tabs.map((tab) => (
            <li key={tab.view}>
              <a
                className="admin-tab"
                href={hrefFor({ name: "admin", view: tab.view })}
                aria-current={current === tab.view ? "page" : undefined}
              >
                {tab.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {view === "users" && <UsersView />}
      {view === "user" && userId && <UserView id={userId} />}
      {view === "totals" && <TotalsView />}
      {view === "audit" && <AuditView />}
    </div>
  );
}

function UsersView() {
  const [draft, setDraft] = useState("");
  const [query, setQuery] = useState("");
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const users = useAdminUsers(query, cursor);
  const search = (event: FormEvent) => {
    event.preventDefault();
    setQuery(draft.trim());
    setCursors([null]);
  };
  const fieldId = useId();
  return (
    <section aria-labelledby={`${fieldId}-h`}>
      <h2 id={`${fieldId}-h`}>Users</h2>
      <form className="admin-search" role="search" onSubmit={search}>
        <label htmlFor={fieldId}>Search by e-mail</label>
        <input
          id={fieldId}
          type="search"
          value={draft}
          placeholder="Start of an e-mail address"
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit" className="btn btn-primary">
          Search
        </button>
      </form>
      {users.isError ? (
        <Alert>{users.error.message}</Alert>
      ) : !users.data ? (
        <Spinner label="Loading users" />
      ) : users.data.items.length === 0 ? (
        <p className="muted">No user's e-mail starts with “{query}”.</p>
      ) : (
        <>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Users">
            <table className="admin-table">
              <caption className="sr-only">Users{query ? ` whose e-mail starts with ${query}` : ""}</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Status</th>
                  <th scope="col">Tokens today</th>
                  <th scope="col">This month</th>
                  <th scope="col">Last active</th>
                </tr>
              </thead>
              <tbody>
                {users.data.items.map((user) => (
                  <UserRow key={user.id} user={user} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="admin-pager">
            {cursors.length > 1 && (
              <button type="button" className="btn btn-secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous page
              </button>
            )}
            {users.data.nextCursor && (
              <button
                type="button"
                className="btn btn-secondary"
                onClick={() => setCursors([...cursors, users.data.nextCursor])}
              >
                Next page
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}

function StatusBadge({ user }: { user: Pick<AdminUser, "status" | "confirmed"> }) {
  return (
    <>
      <span className={`badge ${user.status === "disabled" ? "badge-danger" : "badge-ok"}`}>
        {user.status === "disabled" ? "Disabled" : "Enabled"}
      </span>
      {!user.confirmed && <span className="badge">Unconfirmed</span>}
    </>
  );
}

function UserRow({ user }: { user: AdminUser }) {
  const month = user.activity.month;
  return (
    <tr>
      <th scope="row">
        <a href={hrefFor({ name: "admin", view: "user", id: user.id })}>{user.email}</a>
        <span className="small muted block">{user.name}</span>
      </th>
      <td>
        <StatusBadge user={user} />
      </td>
      <td>
        {number(user.tokensToday)}
        {user.dailyTokenQuota > 0 && <span className="small muted"> of {number(user.dailyTokenQuota)}</span>}
      </td>
      <td>
        {number(month.messages)} messages, {number(month.inputTokens + month.outputTokens)} tokens
      </td>
      <td>{user.lastActiveDay ?? <span className="muted">never</span>}</td>
    </tr>
  );
}

function UserView({ id }: { id: string }) {
  const user = useAdminUser(id);
  const change = useChangeUser(id);
  const [confirming, setConfirming] = useState<"disable" | "enable" | null>(null);
  const [quota, setQuota] = useState("");
  const [quotaError, setQuotaError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const quotaId = useId();
  if (user.isError) return <Alert>{user.error.message}</Alert>;
  if (!user.data) return <Spinner label="Loading the user" />;
  const data = user.data;
  const setOverride = (event: FormEvent) => {
    event.preventDefault();
    const tokens = Number(quota);
    if (quota.trim() === "" || !Number.isInteger(tokens) || tokens < 0 || tokens > 100_000_000) {
      setQuotaError("Enter a whole number of tokens from 0 (unlimited) to 100,000,000.");
      return;
    }
    setQuotaError(null);
    change.mutate(
      { kind: "quota", dailyTokens: tokens },
      { onSuccess: () => (setDone(`Daily quota set to ${quotaText(tokens)}.`), setQuota("")) },
    );
  };
  const confirm = () => {
    const kind = confirming;
    if (!kind) return;
    change.mutate(
      { kind },
      {
        onSuccess: () => setDone(kind === "disable" ? `${data.email} is disabled.` : `${data.email} is enabled again.`),
        onSettled: () => setConfirming(null),
      },
    );
  };
  return (
    <section aria-labelledby={`${quotaId}-h`}>
      <p>
        <a href={hrefFor({ name: "admin", view: "users" })}>← All users</a>
      </p>
      <h2 id={`${quotaId}-h`}>{data.email}</h2>
      <dl className="admin-facts">
        <dt>Name</dt>
        <dd>{data.name}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge user={data} /> <span className="small muted">Cognito: {data.cognitoStatus}</span>
        </dd>
        <dt>Tokens today</dt>
        <dd>
          {number(data.tokensToday)} ({data.dailyTokenQuota > 0 ? `quota ${number(data.dailyTokenQuota)}` : "no quota"})
        </dd>
        <dt>Today</dt>
        <dd>{number(data.activity.today.messages)} messages</dd>
        <dt>This month</dt>
        <dd>
          {number(data.activity.month.messages)} messages,{" "}
          {number(data.activity.month.inputTokens + data.activity.month.outputTokens)} tokens
        </dd>
        <dt>Last active</dt>
        <dd>{data.lastActiveDay ?? "never"}</dd>
      </dl>
      <DaysTable days={data.days} />
      {done && <Alert tone="success">{done}</Alert>}
      {change.isError && <Alert>{change.error.message}</Alert>}

      <h3>Daily token quota</h3>
      <p className="small muted">
        {data.quotaOverride === null
          ? `The default applies: ${quotaText(data.dailyTokenQuota)}.`
          : `Set for this user: ${quotaText(data.quotaOverride)}.`}
      </p>
      <form className="admin-quota" onSubmit={setOverride} noValidate>
        <label htmlFor={quotaId}>Tokens a day (0 = unlimited)</label>
        <input
          id={quotaId}
          inputMode="numeric"
          value={quota}
          aria-invalid={quotaError ? true : undefined}
          aria-describedby={quotaError ? `${quotaId}-error` : undefined}
          onChange={(event) => setQuota(event.target.value)}
        />
        <button type="submit" className="btn btn-primary" disabled={change.isPending}>
          Set quota
        </button>
        {data.quotaOverride !== null && (
          <button
            type="button"
            className="btn btn-secondary"
            disabled={change.isPending}
            onClick={() =>
              change.mutate({ kind: "quota", dailyTokens: null }, { onSuccess: () => setDone("The default quota applies again.") })
            }
          >
            Use the default
          </button>
        )}
      </form>
      {quotaError && (
        <p id={`${quotaId}-error`} className="field-error">
          {quotaError}
        </p>
      )}

      <h3>Access</h3>
      {data.status === "disabled" ? (
        <button type="button" className="btn btn-secondary" onClick={() => setConfirming("enable")}>
          Enable user
        </button>
      ) : (
        <button type="button" className="btn btn-danger" onClick={() => setConfirming("disable")}>
          Disable user
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title={confirming === "disable" ? `Disable ${data.email}?` : `Enable ${data.email}?`}
          body={
            confirming === "disable"
              ? "They are signed out everywhere, their open apps disconnect at once and every request of theirs is refused within a minute. You can enable them again."
              : "They can sign in and use Parley again."
          }
          confirmLabel={confirming === "disable" ? "Disable" : "Enable"}
          busy={change.isPending}
          onConfirm={confirm}
          onClose={() => setConfirming(null)}
        />
      )}
    </section>
  );
}

function DaysTable({ days }: { days: AdminUserDetail["days"] }) {
  const active = [...days].reverse().filter((day) => day.messages > 0 || day.inputTokens + day.outputTokens > 0);
  return (
    <>
      <h3>Last 30 days</h3>
      {active.length === 0 ? (
        <p className="small muted">No activity in the last 30 days.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Activity in the last 30 days">
          <table className="admin-table">
            <caption className="sr-only">Days with activity in the last 30 days, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col">Messages</th>
                <th scope="col">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {active.map((day) => (
                <tr key={day.date}>
                  <th scope="row">{day.date}</th>
                  <td>{number(day.messages)}</td>
                  <td>{number(day.inputTokens + day.outputTokens)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function TotalsView() {
  const totals = useTotals();
  if (totals.isError) return <Alert>{totals.error.message}</Alert>;
  if (!totals.data) return <Spinner label="Loading totals" />;
  const days = [...totals.data.days].reverse();
  return (
    <section aria-label="Totals per day">
      <h2>Totals per day</h2>
      <div className="table-wrap" tabIndex={0} role="region" aria-label="Totals per day, newest first">
        <table className="admin-table">
          <caption className="sr-only">Totals per UTC day, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Messages</th>
              <th scope="col">Replies</th>
              <th scope="col">Tokens</th>
              <th scope="col">Active users</th>
            </tr>
          </thead>
          <tbody>
            {days.map((day) => (
              <tr key={day.date}>
                <th scope="row">{day.date}</th>
                <td>{number(day.messages)}</td>
                <td>{number(day.replies)}</td>
                <td>{number(day.inputTokens + day.outputTokens)}</td>
                <td>{number(day.activeUsers)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const ACTIONS: Record<AuditEntry["action"], string> = {
  "quota.set": "Quota set",
  "quota.cleared": "Quota cleared",
  "user.disabled": "Disabled",
  "user.enabled": "Enabled",
};

function change(entry: AuditEntry): string {
  const show = (value: number | boolean | null | undefined, key: string) =>
    key === "quotaOverride" ? (value === null || value === undefined ? "default" : quotaText(Number(value))) : value ? "yes" : "no";
  return Object.keys({ ...entry.before, ...entry.after })
    .map((key) => `${key === "quotaOverride" ? "quota" : key}: ${show(entry.before[key], key)} → ${show(entry.after[key], key)}`)
    .join("; ");
}

function AuditView() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const audit = useAudit(cursors[cursors.length - 1] ?? null);
  if (audit.isError) return <Alert>{audit.error.message}</Alert>;
  if (!audit.data) return <Spinner label="Loading the audit log" />;
  return (
    <section aria-label="Audit log">
      <h2>Audit log</h2>
      <p className="small muted">Every admin action, newest first. Nobody can change or delete an entry.</p>
      {audit.data.items.length === 0 ? (
        <p className="muted">No admin action yet.</p>
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit entries">
          <table className="admin-table">
            <caption className="sr-only">Admin actions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When (UTC)</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">User</th>
                <th scope="col">Before → after</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.items.map((entry) => (
                <tr key={entry.id}>
                  <td>
                    <time dateTime={entry.at}>{entry.at.replace("T", " ").slice(0, 19)}</time>
                  </td>
                  <td>{entry.actorEmail || entry.actorId}</td>
                  <th scope="row">{ACTIONS[entry.action]}</th>
                  <td>
                    <a href={hrefFor({ name: "admin", view: "user", id: entry.targetId })}>{entry.targetEmail || entry.targetId}</a>
                  </td>
                  <td>{change(entry)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="admin-pager">
        {cursors.length > 1 && (
          <button type="button" className="btn btn-secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer entries
          </button>
        )}
        {audit.data.nextCursor && (
          <button type="button" className="btn btn-secondary" onClick={() => setCursors([...cursors, audit.data.nextCursor])}>
            Older entries
          </button>
        )}
      </div>
    </section>
  );
}
