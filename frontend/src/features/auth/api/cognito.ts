import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";

import { DEFAULT_PASSWORD_POLICY, type AppConfig, type PasswordPolicy } from "@/config/config";
import { passwordHint, weakPasswordMessage } from "@/features/auth/password";
import { signUpRefusal } from "@/features/auth/refusal";
import type { TokenSource } from "@/lib/http";

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  /** The ID token's `parley:role` (from the Cognito `admins` group): shows the admin console's link. The API is the guard. */
  role?: "admin" | "member";
}

/** What signing in led to: a session, or a second step the user must complete. */
export type SignInResult =
  | { kind: "signedIn"; user: SignedInUser }
  | { kind: "totpRequired"; complete: (code: string) => Promise<SignedInUser> }
  /** The pool requires two-step verification and this account has none yet: set it up now. */
  | { kind: "mfaSetupRequired"; secret: string; accountName: string; complete: (code: string) => Promise<SignInResult> }
  | { kind: "newPasswordRequired"; complete: (password: string) => Promise<SignInResult> };

/** Two-step verification (TOTP) of the signed-in account, from the account menu. */
export interface TwoStepAccount {
  /** Whether a code is asked at sign-in (TOTP turned on for this account). */
  twoStepStatus(): Promise<{ enabled: boolean }>;
  /** A new secret for an authenticator app (the account's current one stops working). */
  startTwoStep(): Promise<{ secret: string; accountName: string }>;
  /** Checks a code of the new secret, then makes TOTP this account's second step. */
  confirmTwoStep(code: string): Promise<void>;
  /** Turns it off once the password is confirmed. */
  disableTwoStep(password: string): Promise<void>;
}

/** What Cognito keeps as the authenticator's name (VerifySoftwareToken's FriendlyDeviceName). */
export const AUTHENTICATOR_NAME = "Authenticator app";

/** A code as typed or pasted ("123 456" too), or null when it cannot be a 6-digit code. */
export function totpCode(raw: string): string | null {
  const code = raw.replace(/[\s-]/g, "");
  return /^\d{6}$/.test(code) ? code : null;
}

/** A Cognito failure turned into a message a person can act on, keeping Cognito's code. */
export class AuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

const MESSAGES: Record<string, string> = {
  NotAuthorizedException: "Incorrect email or password.",
  UserNotFoundException: "Incorrect email or password.",
  UserNotConfirmedException: "This account is not confirmed yet. Enter the code we emailed you.",
  UsernameExistsException: "An account with this email already exists. Sign in instead.",
  CodeMismatchException: "That code is not right. Check the email and try again.",
  ExpiredCodeException: "That code has expired. Ask for a new one.",
  LimitExceededException: "Too many attempts. Wait a few minutes and try again.",
  TooManyRequestsException: "Too many attempts. Wait a few minutes and try again.",
  TooManyFailedAttemptsException: "Too many attempts. Wait a few minutes and try again.",
  PasswordResetRequiredException: "You need to reset your password. Use “Forgot password?”.",
  CodeDeliveryFailureException: "We could not send the code. Check the email address.",
  InvalidEmailRoleAccessPolicyException: "We could not send the code. Try again later.",
  UserLambdaValidationException: "The account could not be set up. Try again later.",
  NetworkError: "Cannot reach the sign-in service. Check your connection and try again.",
};

/** The password a refused call sent and the pool's policy, to say what the password lacks. */
export interface PasswordContext {
  password?: string;
  policy?: PasswordPolicy;
  /** The call checked a code from an authenticator app (two-step verification). */
  totp?: boolean;
}

const TOTP_MESSAGES: Record<string, string> = {
  CodeMismatchException: "That code is not right. Enter the code your authenticator app shows now.",
  EnableSoftwareTokenMFAException: "That code is not right. Enter the code your authenticator app shows now.",
  NotAuthorizedException: "This sign-in took too long and has expired. Sign in again.",
  InvalidParameterException: "Enter the 6-digit code from your authenticator app.",
  SoftwareTokenMFANotFoundException: "Two-step verification is not available here.",
};

/**
 * Maps any error from amazon-cognito-identity-js to an AuthError with a clear message. A
 * refused password is described against the pool's policy (Cognito names one unmet rule at a
 * time, moto none), never with the service's own text.
 */
export function toAuthError(error: unknown, context: PasswordContext = {}): AuthError {
  if (error instanceof AuthError) return error;
  const raw = (error ?? {}) as { code?: string; name?: string; message?: string };
  const code = raw.code ?? raw.name ?? "Unknown";
  const policy = context.policy ?? DEFAULT_PASSWORD_POLICY;
  const weak = () =>
    new AuthError(
      "InvalidPasswordException",
      context.password === undefined ? `Choose a stronger password. ${passwordHint(policy)}` : weakPasswordMessage(context.password, policy),
    );
  if (context.totp && TOTP_MESSAGES[code]) {
    if (code === "CodeMismatchException" && /already been used/i.test(raw.message ?? "")) {
      return new AuthError(code, "That code was just used. Wait for the next one in your authenticator app and enter it.");
    }
    return new AuthError(code, TOTP_MESSAGES[code]);
  }
  if (code === "UserLambdaValidationException") {
    const reason = signUpRefusal(raw.message);
    if (reason) return new AuthError(code, reason);
  }
  if (code === "InvalidPasswordException") return weak();
  if (code === "InvalidParameterException") {
    const text = raw.message ?? "";
    if (/password/i.test(text)) return weak();
    if (/email/i.test(text)) return new AuthError(code, "Enter a valid email address.");
    return new AuthError(code, "Some of the details are not valid. Check them and try again.");
  }
  if (code === "TypeError" || /fetch|network/i.test(raw.message ?? "")) {
    return new AuthError("NetworkError", MESSAGES.NetworkError!);
  }
  return new AuthError(code, MESSAGES[code] ?? "Something went wrong. Please try again.");
}

function userFromSession(session: CognitoUserSession): SignedInUser {
  const claims = session.getIdToken().decodePayload() as Record<string, unknown>;
  // No name claim: an empty name, never a guess from the e-mail (the profile's name comes later).
  const role = claims["parley:role"] === "admin" ? "admin" : "member";
  return { id: String(claims.sub ?? ""), email: String(claims.email ?? ""), name: String(claims.name ?? ""), role };
}

/**
 * Cognito through amazon-cognito-identity-js, which accepts a custom endpoint (the local moto
 * server). Locally the flow is USER_PASSWORD_AUTH because moto does not check SRP proofs; in
 * AWS it is SRP, so the password never leaves the browser. Tokens live in localStorage and the
 * library refreshes them with the refresh token when they near expiry.
 */
export class CognitoAuth implements TokenSource, TwoStepAccount {
  private readonly pool: CognitoUserPool;

  constructor(
    private readonly config: AppConfig["cognito"],
    storage?: Storage,
    private readonly policy: PasswordPolicy = DEFAULT_PASSWORD_POLICY,
  ) {
    this.pool = new CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.clientId,
      endpoint: config.endpoint ?? undefined,
      Storage: storage,
    });
  }

  private user(email: string): CognitoUser {
    return new CognitoUser({ Username: email.trim().toLowerCase(), Pool: this.pool });
  }

  async signUp(email: string, password: string, name: string): Promise<{ confirmed: boolean }> {
    const attributes = [new CognitoUserAttribute({ Name: "email", Value: email.trim().toLowerCase() })];
    if (name.trim()) attributes.push(new CognitoUserAttribute({ Name: "name", Value: name.trim() }));
    return new Promise((resolve, reject) => {
      this.pool.signUp(email.trim().toLowerCase(), password, attributes, [], (error, result) => {
        if (error || !result) reject(toAuthError(error, { password, policy: this.policy }));
        else resolve({ confirmed: result.userConfirmed });
      });
    });
  }

  async confirmSignUp(email: string, code: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.user(email).confirmRegistration(code.trim(), true, (error) => (error ? reject(toAuthError(error)) : resolve()));
    });
  }

  async resendCode(email: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.user(email).resendConfirmationCode((error) => (error ? reject(toAuthError(error)) : resolve()));
    });
  }

  async signIn(email: string, password: string): Promise<SignInResult> {
    const user = this.user(email);
    user.setAuthenticationFlowType(this.config.authFlow);
    const details = new AuthenticationDetails({ Username: email.trim().toLowerCase(), Password: password });
    return new Promise((resolve, reject) => user.authenticateUser(details, this.signInCallbacks(user, resolve, reject)));
  }

  /** What each answer of a sign-in (or of its new-password step) leads to. */
  private signInCallbacks(user: CognitoUser, resolve: (result: SignInResult) => void, reject: (error: AuthError) => void, password?: string) {
    return {
      onSuccess: (session: CognitoUserSession) => resolve({ kind: "signedIn", user: userFromSession(session) }),
      onFailure: (error: unknown) => reject(toAuthError(error, password === undefined ? {} : { password, policy: this.policy })),
      totpRequired: () =>
        resolve({
          kind: "totpRequired",
          complete: (code: string) =>
            new Promise<SignedInUser>((ok, fail) =>
              user.sendMFACode(
                totpCode(code) ?? code.trim(),
                { onSuccess: (session) => ok(userFromSession(session)), onFailure: (e) => fail(toAuthError(e, { totp: true })) },
                "SOFTWARE_TOKEN_MFA",
              ),
            ),
        }),
      // The pool requires MFA and the account has none: associate an authenticator now, verify
      // its first code, then the library answers the MFA_SETUP challenge with the session.
      mfaSetup: () =>
        user.associateSoftwareToken({
          onFailure: (error: unknown) => reject(toAuthError(error, { totp: true })),
          associateSecretCode: (secret: string) =>
            resolve({
              kind: "mfaSetupRequired",
              secret,
              accountName: user.getUsername(),
              complete: (code: string) =>
                new Promise<SignInResult>((ok, fail) =>
                  user.verifySoftwareToken(totpCode(code) ?? code.trim(), AUTHENTICATOR_NAME, {
                    onFailure: (error: unknown) => fail(toAuthError(error, { totp: true })),
                    onSuccess: (session: CognitoUserSession) => {
                      // Cognito makes the verified token the account's MFA; say it is the preferred one too.
                      user.setUserMfaPreference(null, { Enabled: true, PreferredMfa: true }, () =>
                        ok({ kind: "signedIn", user: userFromSession(session) }),
                      );
                    },
                  }),
                ),
            }),
        }),
      newPasswordRequired: () =>
        resolve({
          kind: "newPasswordRequired",
          complete: (newPassword: string) =>
            new Promise<SignInResult>((ok, fail) =>
              user.completeNewPasswordChallenge(newPassword, {}, this.signInCallbacks(user, ok, fail, newPassword)),
            ),
        }),
    };
  }

  // ── two-step verification of the signed-in account ────────────────────────────────────────

  async twoStepStatus(): Promise<{ enabled: boolean }> {
    const user = (await this.call("GetUser", {})) as { UserMFASettingList?: string[] };
    return { enabled: (user.UserMFASettingList ?? []).includes("SOFTWARE_TOKEN_MFA") };
  }

  async startTwoStep(): Promise<{ secret: string; accountName: string }> {
    const answer = (await this.call("AssociateSoftwareToken", {})) as { SecretCode: string };
    return { secret: answer.SecretCode, accountName: this.pool.getCurrentUser()?.getUsername() ?? "" };
  }

  async confirmTwoStep(code: string): Promise<void> {
    await this.call("VerifySoftwareToken", { UserCode: totpCode(code) ?? code.trim(), FriendlyDeviceName: AUTHENTICATOR_NAME });
    await this.call("SetUserMFAPreference", { SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });
  }

  async disableTwoStep(password: string): Promise<void> {
    await this.checkPassword(password);
    await this.call("SetUserMFAPreference", { SoftwareTokenMfaSettings: { Enabled: false, PreferredMfa: false } });
  }

  /**
   * Confirms the signed-in person's password by starting a sign-in with it: Cognito checks the
   * password before it asks for the code, so asking for the code means the password was right.
   * (Cognito's advice: ask for the password before removing a second factor.)
   */
  private checkPassword(password: string): Promise<void> {
    const username = this.pool.getCurrentUser()?.getUsername();
    if (!username) return Promise.reject(new AuthError("NoSession", "Please sign in."));
    const user = this.user(username);
    user.setAuthenticationFlowType(this.config.authFlow);
    const details = new AuthenticationDetails({ Username: username, Password: password });
    return new Promise((resolve, reject) =>
      user.authenticateUser(details, {
        onSuccess: () => resolve(),
        totpRequired: () => resolve(),
        mfaSetup: () => resolve(),
        onFailure: (error: unknown) => {
          const failure = toAuthError(error);
          reject(failure.code === "NotAuthorizedException" ? new AuthError(failure.code, "Incorrect password.") : failure);
        },
      }),
    );
  }

  /** One Cognito user-pool call with the signed-in account's access token. */
  private async call(target: string, body: Record<string, unknown>): Promise<unknown> {
    const session = await this.session(false);
    const region = this.config.userPoolId.split("_")[0];
    const endpoint = this.config.endpoint ?? `https://cognito-idp.${region}.amazonaws.com/`;
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
        body: JSON.stringify({ ...body, AccessToken: session.getAccessToken().getJwtToken() }),
      });
    } catch (error) {
      throw toAuthError(error);
    }
    const answer = (await response.json().catch(() => ({}))) as { __type?: string; message?: string; Message?: string };
    if (response.ok) return answer;
    const code = (answer.__type ?? "Unknown").split("#").pop() ?? "Unknown";
    if (code === "NotAuthorizedException") throw new AuthError("SessionExpired", "Your session has ended. Sign in again.");
    throw toAuthError({ code, message: answer.message ?? answer.Message }, { totp: true });
  }

  async forgotPassword(email: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.user(email).forgotPassword({
        onSuccess: () => resolve(),
        onFailure: (error) => reject(toAuthError(error)),
        inputVerificationCode: () => resolve(),
      });
    });
  }

  async confirmPassword(email: string, code: string, newPassword: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.user(email).confirmPassword(code.trim(), newPassword, {
        onSuccess: () => resolve(),
        onFailure: (error) => reject(toAuthError(error, { password: newPassword, policy: this.policy })),
      });
    });
  }

  /**
   * Forgets sessions stored for other app clients of this origin — a pool that was replaced
   * (a local stack started clean, a redeployed pool) — and says whether there were any, so
   * the app can tell the person instead of silently showing sign-in.
   */
  forgetOtherSessions(storage: Storage = window.localStorage): boolean {
    const prefix = "CognitoIdentityServiceProvider.";
    const ours = `${prefix}${this.config.clientId}.`;
    const stale = Object.keys(storage).filter((key) => key.startsWith(prefix) && !key.startsWith(ours));
    stale.forEach((key) => storage.removeItem(key));
    return stale.some((key) => key.endsWith(".LastAuthUser"));
  }

  /** The stored session, refreshed if it has expired; null when nobody is signed in. */
  async currentUser(): Promise<SignedInUser | null> {
    try {
      return userFromSession(await this.session(false));
    } catch {
      return null;
    }
  }

  async getToken(force = false): Promise<string> {
    return (await this.session(force)).getIdToken().getJwtToken();
  }

  /**
   * Forgets the session at once, then revokes its refresh token in the background. (The
   * library's own revoke-then-clear would clear late, after a quick sign-in had stored a new
   * session.)
   */
  async signOut(): Promise<void> {
    const user = this.pool.getCurrentUser();
    if (!user) return;
    const refreshToken = await new Promise<string | null>((resolve) =>
      user.getSession((error: Error | null, session: CognitoUserSession | null) =>
        resolve(error || !session ? null : session.getRefreshToken().getToken()),
      ),
    );
    user.signOut();
    if (refreshToken) void this.revoke(refreshToken);
  }

  private async revoke(token: string): Promise<void> {
    const region = this.config.userPoolId.split("_")[0];
    const endpoint = this.config.endpoint ?? `https://cognito-idp.${region}.amazonaws.com/`;
    try {
      await fetch(endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AWSCognitoIdentityProviderService.RevokeToken",
        },
        body: JSON.stringify({ ClientId: this.config.clientId, Token: token }),
      });
    } catch {
      // Best effort: the tokens are already gone from this browser and expire on their own.
    }
  }

  private session(force: boolean): Promise<CognitoUserSession> {
    const user = this.pool.getCurrentUser();
    if (!user) return Promise.reject(new AuthError("NoSession", "Please sign in."));
    return new Promise((resolve, reject) => {
      user.getSession((error: Error | null, session: CognitoUserSession | null) => {
        if (error || !session) return reject(toAuthError(error ?? new AuthError("NoSession", "Please sign in.")));
        if (!force && session.isValid()) return resolve(session);
        user.refreshSession(session.getRefreshToken(), (refreshError: unknown, fresh: CognitoUserSession | null) => {
          if (fresh && !refreshError) return resolve(fresh);
          // Unreachable is not refused: the session stays, and the next call tries again.
          const failure = refreshError ? toAuthError(refreshError) : null;
          if (failure?.code === "NetworkError") reject(failure);
          else reject(new AuthError("SessionExpired", "Your session has expired. Please sign in again."));
        });
      });
    });
  }
}
