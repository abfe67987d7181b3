import { toAuthError } from "@/features/auth/api/cognito";

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

  it("keeps the policy detail of a weak password", () => {
    const error = toAuthError({ code: "InvalidPasswordException", message: "Password did not conform with policy: Password must have uppercase characters" });
    expect(error.message).toBe("Choose a stronger password: Password must have uppercase characters.");
  });
});
