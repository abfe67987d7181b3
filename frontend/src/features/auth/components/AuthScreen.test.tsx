import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { AuthError, toAuthError } from "@/features/auth/api/cognito";
import type { CognitoAuth } from "@/features/auth/api/cognito";
import { AuthScreen } from "@/features/auth/components/AuthScreen";
import { AuthProvider, useAuth } from "@/features/auth/hooks/useAuth";

function fakeAuth(overrides: Partial<CognitoAuth>): CognitoAuth {
  return { currentUser: async () => null, ...overrides } as CognitoAuth;
}

async function renderScreen(auth: CognitoAuth, props: Parameters<typeof AuthScreen>[0] = {}) {
  render(
    <AuthProvider auth={auth}>
      <AuthScreen {...props} />
    </AuthProvider>,
  );
  return screen.findByRole("heading", { name: "Sign in to Parley" });
}

describe("AuthScreen", () => {
  it("shows Cognito's refusal as a clear alert", async () => {
    const auth = fakeAuth({ signIn: async () => Promise.reject(toAuthError({ code: "NotAuthorizedException" })) });
    await renderScreen(auth);
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Incorrect email or password.");
  });

  it("takes an unconfirmed user to the confirmation step, then signs them in", async () => {
    const calls: string[] = [];
    const auth = fakeAuth({
      signIn: async (email: string) => {
        calls.push(`signIn ${email}`);
        if (calls.length === 1) throw toAuthError({ code: "UserNotConfirmedException" });
        return { kind: "signedIn", user: { id: "u", email, name: "Ana" } };
      },
      confirmSignUp: async (email: string, code: string) => void calls.push(`confirm ${email} ${code}`),
    });
    await renderScreen(auth);
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "Secret-123");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Confirm your email" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Confirmation code"), "123456");
    await userEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect(calls).toEqual(["signIn ana@example.com", "confirm ana@example.com 123456", "signIn ana@example.com"]);
  });

  it("walks through forgot and reset password", async () => {
    const calls: string[] = [];
    const auth = fakeAuth({
      forgotPassword: async (email: string) => void calls.push(`forgot ${email}`),
      confirmPassword: async (email: string, code: string, password: string) => void calls.push(`reset ${email} ${code} ${password}`),
    });
    await renderScreen(auth);
    await userEvent.click(screen.getByRole("button", { name: "Forgot password?" }));
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.click(screen.getByRole("button", { name: "Send reset code" }));
    expect(await screen.findByRole("heading", { name: "Choose a new password" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Reset code"), "999");
    await userEvent.type(screen.getByLabelText("New password"), "N3w-Secret!");
    await userEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(await screen.findByText("Your password has been changed. Sign in with it.")).toBeInTheDocument();
    expect(calls).toEqual(["forgot ana@example.com", "reset ana@example.com 999 N3w-Secret!"]);
  });

  it("explains a weak password on sign-up against the pool's policy", async () => {
    const policy = { minLength: 10, requireLowercase: true, requireUppercase: true, requireNumbers: true, requireSymbols: false };
    const auth = fakeAuth({
      signUp: async (_email: string, password: string) =>
        Promise.reject(toAuthError({ code: "InvalidPasswordException", message: "Password did not conform with policy: Password not long enough" }, { password, policy })),
    });
    await renderScreen(auth, { passwordPolicy: policy });
    await userEvent.click(screen.getByRole("button", { name: "Create an account" }));
    expect(screen.getByText("At least 10 characters with upper and lower case letters and a number.")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "short");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Choose a stronger password: use at least 10 characters and add an uppercase letter and a number.");
  });

  it("shows why the environment refuses a sign-up, on the sign-up form", async () => {
    const auth = fakeAuth({
      signUp: async () =>
        Promise.reject(toAuthError({ code: "UserLambdaValidationException", message: "PreSignUp failed with error Sign-up is open only to addresses at example.com." })),
    });
    await renderScreen(auth);
    await userEvent.click(screen.getByRole("button", { name: "Create an account" }));
    await userEvent.type(screen.getByLabelText("Email"), "eve@elsewhere.example");
    await userEvent.type(screen.getByLabelText("Password"), "Parley-test-2026!");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Sign-up is open only to addresses at example.com.");
    expect(screen.getByRole("alert")).not.toHaveTextContent("PreSignUp");
    expect(screen.getByRole("button", { name: "Create account" })).toBeInTheDocument();
  });

  it("links the confirmation step to the local mailbox only on the local stack", async () => {
    const auth = fakeAuth({ signUp: async () => ({ confirmed: false }) });
    await renderScreen(auth, { mailboxUrl: "/_local/mailbox" });
    await userEvent.click(screen.getByRole("button", { name: "Create an account" }));
    await userEvent.type(screen.getByLabelText("Email"), "Ana@Example.com");
    await userEvent.type(screen.getByLabelText("Password"), "Parley-test-2026!");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("heading", { name: "Confirm your email" })).toBeInTheDocument();
    expect(screen.getByRole("link", { name: "Open the local mailbox" })).toHaveAttribute("href", "/_local/mailbox?to=ana%40example.com");
  });

  it("says nothing of a mailbox in AWS, where the code is e-mailed", async () => {
    const auth = fakeAuth({ signUp: async () => ({ confirmed: false }) });
    await renderScreen(auth);
    await userEvent.click(screen.getByRole("button", { name: "Create an account" }));
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "Parley-test-2026!");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByRole("heading", { name: "Confirm your email" })).toBeInTheDocument();
    expect(screen.queryByRole("link", { name: /mailbox/ })).not.toBeInTheDocument();
  });

  it("sets up two-step verification at sign-in when the environment requires it", async () => {
    const calls: string[] = [];
    const auth = fakeAuth({
      signIn: async () => ({
        kind: "mfaSetupRequired",
        secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        accountName: "ana@example.com",
        complete: async (code: string) => {
          calls.push(code);
          if (code !== "123456") throw new AuthError("EnableSoftwareTokenMFAException", "That code is not right.");
          return { kind: "signedIn", user: { id: "u", email: "ana@example.com", name: "Ana" } };
        },
      }),
    });
    function SignedIn() {
      const { state } = useAuth();
      return state.status === "signedIn" ? <p>Signed in as {state.user.email}</p> : null;
    }
    render(
      <AuthProvider auth={auth}>
        <AuthScreen />
        <SignedIn />
      </AuthProvider>,
    );
    await screen.findByRole("heading", { name: "Sign in to Parley" });
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "Parley-test-2026!");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByRole("heading", { name: "Set up two-step verification" })).toBeInTheDocument();
    expect(screen.getByText(/requires two-step verification/)).toBeInTheDocument();
    expect(await screen.findByRole("img", { name: /QR code/ })).toBeInTheDocument();
    expect(screen.getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("6-digit code from the app"), "111111");
    await userEvent.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("That code is not right.");
    expect(screen.getByRole("heading", { name: "Set up two-step verification" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("6-digit code from the app"), "123456");
    await userEvent.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(await screen.findByText("Signed in as ana@example.com")).toBeInTheDocument();
    expect(calls).toEqual(["111111", "123456"]);
  });

  it("asks for the code of a two-step account and explains a wrong one in its own words", async () => {
    const auth = fakeAuth({
      signIn: async () => ({
        kind: "totpRequired",
        complete: async () => Promise.reject(toAuthError({ code: "CodeMismatchException", message: "Invalid code received for user" }, { totp: true })),
      }),
    });
    await renderScreen(auth);
    await userEvent.type(screen.getByLabelText("Email"), "ana@example.com");
    await userEvent.type(screen.getByLabelText("Password"), "Parley-test-2026!");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Two-step verification" })).toBeInTheDocument();
    await userEvent.type(screen.getByLabelText("6-digit code from the app"), "000000");
    await userEvent.click(screen.getByRole("button", { name: "Verify" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("authenticator app");
    expect(alert).not.toHaveTextContent("email");
  });

  it("offers a button per identity provider and starts the chosen one", async () => {
    const started: string[] = [];
    await renderScreen(fakeAuth({}), {
      providers: [
        { name: "corp", label: "Example Corp" },
        { name: "adfs", label: "Active Directory" },
      ],
      onFederatedSignIn: async (provider) => void started.push(provider),
    });
    const group = screen.getByRole("group", { name: "Sign in with an identity provider" });
    expect(group).toContainElement(screen.getByRole("button", { name: "Sign in with Active Directory" }));
    await userEvent.click(screen.getByRole("button", { name: "Sign in with Example Corp" }));
    expect(started).toEqual(["corp"]);
  });

  it("shows no provider buttons where none is configured, and a refused federated sign-in as an alert", async () => {
    await renderScreen(fakeAuth({}), { error: "Sign-in was cancelled, or the identity provider refused it." });
    expect(screen.queryByRole("group", { name: "Sign in with an identity provider" })).toBeNull();
    expect(screen.getByRole("alert")).toHaveTextContent("Sign-in was cancelled, or the identity provider refused it.");
  });
});
