import { DEFAULT_PASSWORD_POLICY } from "@/config/config";
import { toAuthError } from "@/features/auth/api/cognito";
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
