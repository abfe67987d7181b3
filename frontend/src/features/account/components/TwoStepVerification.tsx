import { useEffect, useId, useRef, useState } from "react";
import type { FormEvent } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { Dialog } from "@/components/ui/Dialog";
import { Spinner } from "@/components/ui/Spinner";
import { TextField } from "@/components/ui/TextField";
import type { MfaMode } from "@/config/config";
import { AuthError, totpCode } from "@/features/auth/api/cognito";
import type { TwoStepAccount } from "@/features/auth/api/cognito";
import { TOTP_CODE_LABEL, TotpSecret } from "@/features/auth/components/TotpSecret";

function messageOf(error: unknown): string {
  return error instanceof AuthError ? error.message : "Something went wrong. Please try again.";
}

/** Puts the caret back in a form's field after a refused attempt, so the next try is one keystroke away. */
function focusField(form: HTMLFormElement | null, selector: string) {
  form?.querySelector<HTMLInputElement>(selector)?.focus();
}

/**
 * Two-step verification in the account menu: whether a code is asked at sign-in, turning it on
 * (a QR code of a new key, then a code of it) and off (after the password). Where the
 * environment requires it (`mode` ON) it cannot be turned off, and the menu says why.
 */
export function TwoStepVerification({ mode, account }: { mode: MfaMode; account: TwoStepAccount }) {
  const [state, setState] = useState<{ status: "loading" } | { status: "ready"; enabled: boolean } | { status: "failed"; message: string }>({
    status: "loading",
  });
  const [dialog, setDialog] = useState<"enrol" | "disable" | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const headingId = useId();
  // After a dialog, focus lands on the new state (the button that opened it is gone).
  const stateLine = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (notice) stateLine.current?.focus();
  }, [notice]);
  useEffect(() => {
    let live = true;
    account.twoStepStatus().then(
      ({ enabled }) => live && setState({ status: "ready", enabled }),
      (error: unknown) => live && setState({ status: "failed", message: messageOf(error) }),
    );
    return () => {
      live = false;
    };
  }, [account]);

  const done = (enabled: boolean) => {
    setDialog(null);
    setState({ status: "ready", enabled });
    setNotice(
      enabled
        ? "Two-step verification is on. You will enter a code from your authenticator app when you sign in."
        : "Two-step verification is off. You will sign in with your password alone.",
    );
  };

  return (
    <section className="two-step" aria-labelledby={headingId}>
      <h3 id={headingId} className="account-heading small">
        Two-step verification
      </h3>
      {state.status === "loading" && <Spinner label="Checking two-step verification" />}
      {state.status === "failed" && (
        <p className="small" role="alert">
          {state.message}
        </p>
      )}
      {state.status === "ready" && (
        <>
          <p className="two-step-state small" ref={stateLine} tabIndex={-1}>
            <span className={`two-step-badge ${state.enabled ? "is-on" : ""}`}>{state.enabled ? "On" : "Off"}</span>{" "}
            <span className="muted">
              {state.enabled ? "A code from your authenticator app is asked when you sign in." : "Add a code from an authenticator app to your password."}
            </span>
          </p>
          {notice && <Alert tone="success">{notice}</Alert>}
          {!state.enabled && (
            <Button variant="secondary" className="btn-small" aria-label="Turn on two-step verification" onClick={() => setDialog("enrol")}>
              Turn on
            </Button>
          )}
          {state.enabled && mode === "ON" && <p className="small muted">Two-step verification is required for every account here, so it cannot be turned off.</p>}
          {state.enabled && mode !== "ON" && (
            <Button variant="ghost" className="btn-small" aria-label="Turn off two-step verification" onClick={() => setDialog("disable")}>
              Turn off
            </Button>
          )}
        </>
      )}
      {dialog === "enrol" && <EnrolDialog account={account} onDone={() => done(true)} onClose={() => setDialog(null)} />}
      {dialog === "disable" && <DisableDialog account={account} onDone={() => done(false)} onClose={() => setDialog(null)} />}
    </section>
  );
}

/** A new key (AssociateSoftwareToken), shown as a QR code and as text, then a code of it. */
function EnrolDialog({ account, onDone, onClose }: { account: TwoStepAccount; onDone: () => void; onClose: () => void }) {
  const [setup, setSetup] = useState<{ secret: string; accountName: string } | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const formId = useId();
  useEffect(() => {
    let live = true;
    account.startTwoStep().then(
      (found) => live && setSetup(found),
      (failure: unknown) => live && setError(messageOf(failure)),
    );
    return () => {
      live = false;
    };
  }, [account]);
  useEffect(() => {
    if (setup) focusField(form.current, "input");
  }, [setup]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const typed = totpCode(code);
    if (!typed) {
      setError("Enter the 6-digit code your authenticator app shows.");
      focusField(form.current, "input");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await account.confirmTwoStep(typed);
      onDone();
    } catch (failure) {
      setError(messageOf(failure));
      setCode("");
      focusField(form.current, "input");
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Set up two-step verification"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <Button type="submit" form={formId} variant="primary" busy={busy} disabled={!setup}>
            {busy ? "Checking…" : "Turn on"}
          </Button>
        </>
      }
    >
      {!setup && !error && <Spinner label="Preparing your key" />}
      {!setup && error && <Alert>{error}</Alert>}
      {setup && (
        <form id={formId} ref={form} className="two-step-form" onSubmit={(event) => void submit(event)}>
          <TotpSecret secret={setup.secret} accountName={setup.accountName} />
          {error && <Alert>{error}</Alert>}
          <TextField
            label={TOTP_CODE_LABEL}
            hint="Scan the QR code or type the key into your authenticator app, then enter the code it shows."
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(event) => setCode(event.target.value)}
          />
        </form>
      )}
    </Dialog>
  );
}

/** Cognito's advice: confirm the password before a second factor is removed. */
function DisableDialog({ account, onDone, onClose }: { account: TwoStepAccount; onDone: () => void; onClose: () => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  const formId = useId();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await account.disableTwoStep(password);
      onDone();
    } catch (failure) {
      setError(messageOf(failure));
      setPassword("");
      focusField(form.current, "input");
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Turn off two-step verification?"
      onClose={onClose}
      actions={
        <>
          <button type="button" className="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <Button type="submit" form={formId} variant="danger" busy={busy}>
            {busy ? "Turning off…" : "Turn off"}
          </Button>
        </>
      }
    >
      <form id={formId} ref={form} className="two-step-form" onSubmit={(event) => void submit(event)}>
        <p>You will sign in with your password alone. Enter your password to confirm.</p>
        {error && <Alert>{error}</Alert>}
        <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(event) => setPassword(event.target.value)} />
      </form>
    </Dialog>
  );
}
