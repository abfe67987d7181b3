import { useState } from "react";
import type { FormEvent, ReactNode } from "react";

import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/TextField";
import { ThemeToggle } from "@/components/ui/ThemeToggle";
import { DEFAULT_PASSWORD_POLICY, type PasswordPolicy } from "@/config/config";
import { AuthError, totpCode, type SignInResult } from "@/features/auth/api/cognito";
import { TOTP_CODE_LABEL, TotpSecret } from "@/features/auth/components/TotpSecret";
import { useAuth } from "@/features/auth/hooks/useAuth";
import { passwordHint } from "@/features/auth/password";

type Step =
  | { name: "signIn" }
  | { name: "signUp" }
  | { name: "confirm" }
  | { name: "forgot" }
  | { name: "reset" }
  | { name: "totp"; complete: (code: string) => Promise<unknown> }
  | { name: "mfaSetup"; secret: string; accountName: string; complete: (code: string) => Promise<SignInResult> }
  | { name: "newPassword"; complete: (password: string) => Promise<unknown> };

const TITLES: Record<Step["name"], string> = {
  signIn: "Sign in to Parley",
  signUp: "Create your account",
  confirm: "Confirm your email",
  forgot: "Reset your password",
  reset: "Choose a new password",
  totp: "Two-step verification",
  mfaSetup: "Set up two-step verification",
  newPassword: "Choose a new password",
};

/**
 * Sign up, confirm, sign in (with TOTP, and setting TOTP up first where the pool requires it),
 * forgot and reset password: one card, one step at a time. On the local stack (`mailboxUrl`) the steps that wait for an e-mail link to the local
 * mailbox, where the code is.
 */
export function AuthScreen({
  notice: initialNotice = null,
  error: initialError = null,
  passwordPolicy = DEFAULT_PASSWORD_POLICY,
  mailboxUrl = null,
  providers = [],
  onFederatedSignIn,
}: {
  /** Why the person is here (a session that ended), shown until the first step changes. */
  notice?: string | null;
  /** Why the last sign-in did not complete (a federated one refused), shown as an error. */
  error?: string | null;
  /** The environment's identity providers: a "Sign in with <label>" button each. */
  providers?: { name: string; label: string }[];
  /** Starts a federated sign-in with the named provider (the browser leaves the app). */
  onFederatedSignIn?: (provider: string) => Promise<void>;
  passwordPolicy?: PasswordPolicy;
  /** The local stack's mailbox page; null in AWS, where Cognito sends real e-mail. */
  mailboxUrl?: string | null;
}) {
  const { auth, setUser } = useAuth();
  const [step, setStep] = useState<Step>({ name: "signIn" });
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(initialError);
  const [leaving, setLeaving] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(initialNotice);
  const [busy, setBusy] = useState(false);

  const go = (next: Step, message: string | null = null) => {
    setStep(next);
    setError(null);
    setNotice(message);
    setCode("");
  };

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (caught) {
      const authError = caught instanceof AuthError ? caught : new AuthError("Unknown", "Something went wrong. Please try again.");
      if (authError.code === "UserNotConfirmedException") go({ name: "confirm" }, authError.message);
      else setError(authError.message);
    } finally {
      setBusy(false);
    }
  };

  const afterSignIn = (result: SignInResult) => {
    if (result.kind === "signedIn") setUser(result.user);
    else if (result.kind === "totpRequired") go({ name: "totp", complete: async (c) => setUser(await result.complete(c)) });
    else if (result.kind === "mfaSetupRequired") go({ name: "mfaSetup", secret: result.secret, accountName: result.accountName, complete: result.complete });
    else go({ name: "newPassword", complete: async (p) => afterSignIn(await result.complete(p)) }, "Your account needs a new password.");
  };

  /** A code from an authenticator app: checked for its shape here, then by Cognito; cleared when refused. */
  const withCode = async (submitCode: (code: string) => Promise<void>) => {
    const typed = totpCode(code);
    try {
      if (!typed) throw new AuthError("InvalidCode", "Enter the 6-digit code your authenticator app shows.");
      await submitCode(typed);
    } catch (error) {
      setCode("");
      throw error;
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    switch (step.name) {
      case "signIn":
        return run(async () => afterSignIn(await auth.signIn(email, password)));
      case "signUp":
        return run(async () => {
          const { confirmed } = await auth.signUp(email, password, name);
          if (confirmed) afterSignIn(await auth.signIn(email, password));
          else go({ name: "confirm" }, `We emailed a code to ${email.trim()}.`);
        });
      case "confirm":
        return run(async () => {
          await auth.confirmSignUp(email, code);
          if (password) afterSignIn(await auth.signIn(email, password));
          else go({ name: "signIn" }, "Your account is confirmed. Sign in.");
        });
      case "forgot":
        return run(async () => {
          await auth.forgotPassword(email);
          go({ name: "reset" }, `If ${email.trim()} has an account, we emailed it a code.`);
        });
      case "reset":
        return run(async () => {
          await auth.confirmPassword(email, code, password);
          go({ name: "signIn" }, "Your password has been changed. Sign in with it.");
        });
      case "totp":
        return run(() => withCode(async (typed) => void (await step.complete(typed))));
      case "mfaSetup":
        return run(() => withCode(async (typed) => afterSignIn(await step.complete(typed))));
      case "newPassword":
        return run(async () => void (await step.complete(password)));
    }
  };

  let fields: ReactNode;
  let submitLabel: string;
  let links: ReactNode = null;
  // Locally nothing is e-mailed: the stack keeps the messages on its mailbox page.
  const mailbox = mailboxUrl && (
    <p className="local-mailbox">
      Running locally, no e-mail is sent.{" "}
      <a href={`${mailboxUrl}?to=${encodeURIComponent(email.trim().toLowerCase())}`} target="_blank" rel="noopener noreferrer">
        Open the local mailbox
      </a>{" "}
      to see the code.
    </p>
  );
  const emailField = (
    <TextField label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
  );
  switch (step.name) {
    case "signIn":
      submitLabel = "Sign in";
      fields = (
        <>
          {emailField}
          <TextField label="Password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </>
      );
      links = (
        <>
          <button type="button" className="link" onClick={() => go({ name: "forgot" })}>
            Forgot password?
          </button>
          <span>
            New to Parley?{" "}
            <button type="button" className="link" onClick={() => go({ name: "signUp" })}>
              Create an account
            </button>
          </span>
        </>
      );
      break;
    case "signUp":
      submitLabel = "Create account";
      fields = (
        <>
          <TextField label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
          {emailField}
          <TextField
            label="Password"
            type="password"
            autoComplete="new-password"
            required
            minLength={passwordPolicy.minLength}
            hint={passwordHint(passwordPolicy)}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </>
      );
      links = (
        <span>
          Have an account?{" "}
          <button type="button" className="link" onClick={() => go({ name: "signIn" })}>
            Sign in
          </button>
        </span>
      );
      break;
    case "confirm":
      submitLabel = "Confirm";
      fields = (
        <>
          {emailField}
          <TextField label="Confirmation code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          {mailbox}
        </>
      );
      links = (
        <button type="button" className="link" disabled={busy || !email} onClick={() => run(async () => { await auth.resendCode(email); setNotice("We sent a new code."); })}>
          Send a new code
        </button>
      );
      break;
    case "forgot":
      submitLabel = "Send reset code";
      fields = emailField;
      links = (
        <button type="button" className="link" onClick={() => go({ name: "signIn" })}>
          Back to sign in
        </button>
      );
      break;
    case "reset":
      submitLabel = "Change password";
      fields = (
        <>
          {emailField}
          <TextField label="Reset code" inputMode="numeric" autoComplete="one-time-code" required value={code} onChange={(e) => setCode(e.target.value)} />
          {mailbox}
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            minLength={passwordPolicy.minLength}
            hint={passwordHint(passwordPolicy)}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </>
      );
      links = (
        <button type="button" className="link" onClick={() => go({ name: "signIn" })}>
          Back to sign in
        </button>
      );
      break;
    case "totp":
    case "mfaSetup":
      submitLabel = step.name === "totp" ? "Verify" : "Verify and sign in";
      fields = (
        <>
          {step.name === "mfaSetup" && (
            <>
              <p>This app requires two-step verification: set it up now with an authenticator app on your phone. You will enter a code from it each time you sign in.</p>
              <TotpSecret secret={step.secret} accountName={step.accountName} />
            </>
          )}
          <TextField
            label={TOTP_CODE_LABEL}
            hint={step.name === "totp" ? "Open your authenticator app and enter the code it shows for Parley." : undefined}
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </>
      );
      links = (
        <button type="button" className="link" onClick={() => go({ name: "signIn" })}>
          Back to sign in
        </button>
      );
      break;
    case "newPassword":
      submitLabel = "Set password";
      fields = (
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          minLength={passwordPolicy.minLength}
          hint={passwordHint(passwordPolicy)}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      );
      break;
  }

  return (
    <main className="auth-page">
      <div className="auth-theme">
        <ThemeToggle />
      </div>
      <form className="auth-card" onSubmit={submit} noValidate={false} aria-labelledby="auth-title">
        <p className="brand" aria-hidden="true">
          Parley
        </p>
        <h1 id="auth-title">{TITLES[step.name]}</h1>
        {notice && <Alert tone="info">{notice}</Alert>}
        {error && <Alert>{error}</Alert>}
        {fields}
        <Button type="submit" variant="primary" busy={busy} className="wide">
          {busy ? "Please wait…" : submitLabel}
        </Button>
        {links && <div className="auth-links">{links}</div>}
        {step.name === "signIn" && providers.length > 0 && onFederatedSignIn && (
          <div className="auth-federation" role="group" aria-label="Sign in with an identity provider">
            <p className="auth-divider" aria-hidden="true">
              <span>or</span>
            </p>
            {providers.map((provider) => (
              <Button
                key={provider.name}
                className="wide"
                busy={leaving === provider.name}
                disabled={leaving !== null}
                onClick={() => {
                  setLeaving(provider.name);
                  setError(null);
                  onFederatedSignIn(provider.name).catch(() => {
                    setLeaving(null);
                    setError("Could not start signing in with that provider. Try again.");
                  });
                }}
              >
                Sign in with {provider.label}
              </Button>
            ))}
          </div>
        )}
      </form>
    </main>
  );
}
