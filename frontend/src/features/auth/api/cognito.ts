import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";

import type { AppConfig } from "@/config/config";
import type { TokenSource } from "@/lib/http";

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
}

/** What signing in led to: a session, or a second step the user must complete. */
export type SignInResult =
  | { kind: "signedIn"; user: SignedInUser }
  | { kind: "totpRequired"; complete: (code: string) => Promise<SignedInUser> }
  | { kind: "newPasswordRequired"; complete: (password: string) => Promise<SignedInUser> };

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

/** Maps any error from amazon-cognito-identity-js to an AuthError with a clear message. */
export function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  const raw = (error ?? {}) as { code?: string; name?: string; message?: string };
  const code = raw.code ?? raw.name ?? "Unknown";
  if (code === "InvalidPasswordException") {
    // Cognito's own text names the unmet rule ("Password must have uppercase characters").
    const detail = (raw.message ?? "").replace(/^Password did not conform with policy:\s*/i, "");
    return new AuthError(code, `Choose a stronger password: ${detail || "it does not meet the policy"}.`.replace(/\.\.$/, "."));
  }
  if (code === "InvalidParameterException") {
    const text = raw.message ?? "";
    if (/password/i.test(text)) return new AuthError("InvalidPasswordException", "Choose a stronger password: it is too short.");
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
  const email = String(claims.email ?? "");
  return { id: String(claims.sub ?? ""), email, name: String(claims.name ?? email.split("@")[0] ?? "") };
}

/**
 * Cognito through amazon-cognito-identity-js, which accepts a custom endpoint (the local moto
 * server). Locally the flow is USER_PASSWORD_AUTH because moto does not check SRP proofs; in
 * AWS it is SRP, so the password never leaves the browser. Tokens live in localStorage and the
 * library refreshes them with the refresh token when they near expiry.
 */
export class CognitoAuth implements TokenSource {
  private readonly pool: CognitoUserPool;

  constructor(private readonly config: AppConfig["cognito"], storage?: Storage) {
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
        if (error || !result) reject(toAuthError(error));
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
    return new Promise((resolve, reject) => {
      const callbacks = {
        onSuccess: (session: CognitoUserSession) => resolve({ kind: "signedIn", user: userFromSession(session) }),
        onFailure: (error: unknown) => reject(toAuthError(error)),
        totpRequired: () =>
          resolve({
            kind: "totpRequired",
            complete: (code: string) =>
              new Promise<SignedInUser>((ok, fail) =>
                user.sendMFACode(
                  code.trim(),
                  { onSuccess: (session) => ok(userFromSession(session)), onFailure: (e) => fail(toAuthError(e)) },
                  "SOFTWARE_TOKEN_MFA",
                ),
              ),
          }),
        newPasswordRequired: () =>
          resolve({
            kind: "newPasswordRequired",
            complete: (newPassword: string) =>
              new Promise<SignedInUser>((ok, fail) =>
                user.completeNewPasswordChallenge(newPassword, {}, {
                  onSuccess: (session) => ok(userFromSession(session)),
                  onFailure: (e) => fail(toAuthError(e)),
                }),
              ),
          }),
      };
      user.authenticateUser(details, callbacks);
    });
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
        onFailure: (error) => reject(toAuthError(error)),
      });
    });
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
          if (refreshError || !fresh) reject(new AuthError("SessionExpired", "Your session has expired. Please sign in again."));
          else resolve(fresh);
        });
      });
    });
  }
}
