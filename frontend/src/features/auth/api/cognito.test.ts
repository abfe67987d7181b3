import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { DEFAULT_PASSWORD_POLICY } from "@/config/config";
import { AuthError, CognitoAuth, toAuthError } from "@/features/auth/api/cognito";
import { missingFromPassword, passwordHint } from "@/features/auth/password";

describe("toAuthError", () => {
  it.each([
    [{ code: "NotAuthorizedException", message: "Incorrect username or password." }, "Incorrect email or password."],
    [{ code: "UserNotConfirmedException" }, "This account is not confirmed yet. Enter the code we emailed you."],
    [{ code: "UsernameExistsException" }, "An account with this email already exists. Sign in instead."],
    [{ code: "CodeMismatchException" }, "That code is not right. Check the email and try again."],
    [{ code: "LimitExceededException" }, "Too many attempts. Wait a few minutes and try again."],
    [{ name: "TypeError", message: "Failed to fetch" }, "Cannot reach the sign-in service. Check your connection and try again."],
    [{ code: "SomethingNew", message: "internal detail" }, "Something went wrong. Please try again."],
  ])("maps %o to a clear message", (raw, message) => {
    expect(toAuthError(raw).message).toBe(message);
  });

  it("says what a weak password lacks under the pool's policy, not Cognito's or moto's text", () => {
    const moto = { code: "InvalidPasswordException", message: "The provided password does not confirm to the configured password policy" };
    expect(toAuthError(moto, { password: "short", policy: DEFAULT_PASSWORD_POLICY }).message).toBe(
      "Choose a stronger password: use at least 12 characters and add an uppercase letter, a number and a symbol such as ! or #.",
    );
    const cognito = { code: "InvalidPasswordException", message: "Password did not conform with policy: Password must have uppercase characters" };
    expect(toAuthError(cognito, { password: "long-enough-1-but-lower", policy: DEFAULT_PASSWORD_POLICY }).message).toBe(
      "Choose a stronger password: add an uppercase letter.",
    );
    // Cognito's own length check arrives as InvalidParameterException.
    const tooShort = { code: "InvalidParameterException", message: "1 validation error detected: Value at 'password' failed to satisfy constraint" };
    expect(toAuthError(tooShort, { password: "Ab1!", policy: { ...DEFAULT_PASSWORD_POLICY, minLength: 8 } }).message).toBe(
      "Choose a stronger password: use at least 8 characters.",
    );
  });

  it("speaks of the authenticator app, not the email, for a two-step code", () => {
    const wrong = toAuthError({ code: "CodeMismatchException", message: "Invalid code received for user" }, { totp: true });
    expect(wrong.message).toBe("That code is not right. Enter the code your authenticator app shows now.");
    expect(toAuthError({ code: "EnableSoftwareTokenMFAException", message: "Code mismatch" }, { totp: true }).message).toBe(wrong.message);
    expect(toAuthError({ code: "CodeMismatchException", message: "Your software token has already been used once." }, { totp: true }).message).toBe(
      "That code was just used. Wait for the next one in your authenticator app and enter it.",
    );
    expect(toAuthError({ code: "NotAuthorizedException", message: "Invalid session for the user, session is expired." }, { totp: true }).message).toBe(
      "This sign-in took too long and has expired. Sign in again.",
    );
  });

  it("shows the reason the environment refuses a sign-up, and no other trigger's text", () => {
    const refused = { code: "UserLambdaValidationException", message: "PreSignUp failed with error Sign-up is by invitation only: ask a room owner to invite this address." };
    expect(toAuthError(refused).message).toBe("Sign-up is by invitation only: ask a room owner to invite this address.");
    const internal = { code: "UserLambdaValidationException", message: "PreTokenGeneration failed with error Task timed out after 5.00 seconds." };
    expect(toAuthError(internal).message).toBe("The account could not be set up. Try again later.");
    expect(toAuthError({ code: "UserLambdaValidationException", message: "PreSignUp failed with error ." }).message).toBe(
      "The account could not be set up. Try again later.",
    );
  });

  it("never shows the raw text when the password is not known", () => {
    const moto = { code: "InvalidPasswordException", message: "The provided password does not confirm to the configured password policy" };
    expect(toAuthError(moto).message).toBe(
      "Choose a stronger password. At least 12 characters with upper and lower case letters, a number and a symbol.",
    );
  });
});

describe("password policy sentences", () => {
  it("lists exactly what is missing", () => {
    expect(missingFromPassword("Parley-test-2026!", DEFAULT_PASSWORD_POLICY)).toEqual([]);
    expect(missingFromPassword("PARLEY 2026", DEFAULT_PASSWORD_POLICY)).toEqual(["a lowercase letter"]);
    expect(missingFromPassword("abc", { ...DEFAULT_PASSWORD_POLICY, requireNumbers: false, requireSymbols: false, requireUppercase: false })).toEqual([]);
  });

  it("describes the policy for the sign-up hint", () => {
    expect(passwordHint(DEFAULT_PASSWORD_POLICY)).toBe("At least 12 characters with upper and lower case letters, a number and a symbol.");
    expect(passwordHint({ minLength: 8, requireLowercase: false, requireUppercase: false, requireNumbers: true, requireSymbols: false })).toBe(
      "At least 8 characters with a number.",
    );
  });
});

/**
 * A stored session refreshed while the sign-in service is unreachable (a network blip, or the
 * local stack restarting) must survive: only the service's refusal ends it. The library retries
 * a failed request with backoff for several seconds before giving up, hence the long timeouts.
 */
describe("refreshing a stored session", () => {
  const clientId = "client123";
  const prefix = `CognitoIdentityServiceProvider.${clientId}`;
  const jwt = (payload: object) => ["e30", btoa(JSON.stringify(payload)).replace(/=+$/, ""), "sig"].join(".");

  /** A browser that signed in earlier: the library's keys in storage, the tokens still valid. */
  function signedIn(): Storage {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const storage = window.localStorage;
    storage.clear();
    storage.setItem(`${prefix}.LastAuthUser`, "ana");
    storage.setItem(`${prefix}.ana.idToken`, jwt({ sub: "ana", exp, iat: exp - 3600 }));
    storage.setItem(`${prefix}.ana.accessToken`, jwt({ sub: "ana", exp, iat: exp - 3600, username: "ana" }));
    storage.setItem(`${prefix}.ana.refreshToken`, "refresh");
    storage.setItem(`${prefix}.ana.clockDrift`, "0");
    return storage;
  }

  async function refreshAgainst(endpoint: string): Promise<AuthError | null> {
    const auth = new CognitoAuth({ userPoolId: "eu-west-1_Pool", clientId, endpoint, authFlow: "USER_PASSWORD_AUTH" }, signedIn());
    return auth.getToken(true).then(
      () => null,
      (error: unknown) => (error instanceof AuthError ? error : new AuthError("Unexpected", String(error))),
    );
  }

  it("keeps the session when the sign-in service cannot be reached", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const error = await refreshAgainst(`http://127.0.0.1:${port}/`);
    expect(error?.code).toBe("NetworkError");
    expect(window.localStorage.getItem(`${prefix}.ana.refreshToken`)).toBe("refresh");
  }, 30_000);

  it("ends the session when the service refuses the refresh token", async () => {
    const refusing = createServer((_, res) => {
      res.writeHead(400, { "Content-Type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ __type: "NotAuthorizedException", message: "Refresh Token has been revoked" }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    try {
      const error = await refreshAgainst(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}/`);
      expect(error?.code).toBe("SessionExpired");
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  }, 30_000);
});

/**
 * Enrolment at first sign-in when the pool requires MFA, through amazon-cognito-identity-js
 * against a server that answers as Cognito does: InitiateAuth → MFA_SETUP, then
 * AssociateSoftwareToken, VerifySoftwareToken and RespondToAuthChallenge with the sessions each
 * gives, and SetUserMFAPreference once signed in.
 */
describe("setting up two-step verification at sign-in", () => {
  const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
  const jwt = (payload: object) => ["e30", btoa(JSON.stringify(payload)).replace(/=+$/, ""), "sig"].join(".");

  it("associates, verifies the code (again after a wrong one), completes the challenge and prefers TOTP", async () => {
    const calls: { target: string; body: Record<string, unknown> }[] = [];
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
      req.on("end", () => {
        const target = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
        const body = JSON.parse(raw || "{}") as Record<string, unknown>;
        calls.push({ target, body });
        const answer = (status: number, payload: object) => {
          res.writeHead(status, { "Content-Type": "application/x-amz-json-1.1" });
          res.end(JSON.stringify(payload));
        };
        if (target === "InitiateAuth") return answer(200, { ChallengeName: "MFA_SETUP", Session: "s1", ChallengeParameters: { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]' } });
        if (target === "AssociateSoftwareToken") return answer(200, { SecretCode: SECRET, Session: "s2" });
        if (target === "VerifySoftwareToken") {
          if (body.UserCode !== "123456") return answer(400, { __type: "EnableSoftwareTokenMFAException", message: "Code mismatch and fail enable Software Token MFA" });
          return answer(200, { Status: "SUCCESS", Session: "s3" });
        }
        if (target === "RespondToAuthChallenge") {
          return answer(200, {
            AuthenticationResult: {
              IdToken: jwt({ sub: "ana", email: "ana@example.com", name: "Ana", exp, iat: exp - 3600 }),
              AccessToken: jwt({ sub: "ana", username: "ana", exp, iat: exp - 3600 }),
              RefreshToken: "refresh",
              ExpiresIn: 3600,
              TokenType: "Bearer",
            },
          });
        }
        if (target === "SetUserMFAPreference") return answer(200, {});
        return answer(400, { __type: "UnknownOperationException", message: target });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      window.localStorage.clear();
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const auth = new CognitoAuth({ userPoolId: "eu-west-1_Pool", clientId: "client123", endpoint, authFlow: "USER_PASSWORD_AUTH" });
      const result = await auth.signIn("Ana@Example.com", "Parley-test-2026!");
      if (result.kind !== "mfaSetupRequired") throw new Error(`expected MFA setup, got ${result.kind}`);
      expect(result.secret).toBe(SECRET);
      expect(result.accountName).toBe("ana@example.com");

      const wrong = await result.complete("000000").then(
        () => null,
        (error: unknown) => error,
      );
      expect(wrong).toBeInstanceOf(AuthError);
      expect((wrong as AuthError).message).toBe("That code is not right. Enter the code your authenticator app shows now.");

      const done = await result.complete(" 123 456 ");
      expect(done).toEqual({ kind: "signedIn", user: { id: "ana", email: "ana@example.com", name: "Ana", role: "member" } });
      expect(calls.map((c) => c.target)).toEqual([
        "InitiateAuth",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "VerifySoftwareToken",
        "RespondToAuthChallenge",
        "SetUserMFAPreference",
      ]);
      expect(calls[1]?.body).toEqual({ Session: "s1" });
      expect(calls[3]?.body).toMatchObject({ Session: "s2", UserCode: "123456" });
      expect(String(calls[3]?.body.FriendlyDeviceName)).not.toBe("");
      expect(calls[4]?.body).toMatchObject({ ChallengeName: "MFA_SETUP", Session: "s3" });
      expect(calls[5]?.body).toMatchObject({ SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true } });
      expect(await auth.currentUser()).toEqual({ id: "ana", email: "ana@example.com", name: "Ana", role: "member" });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 30_000);
});
