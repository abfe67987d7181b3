import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";

import { AuthError } from "@/features/auth/api/cognito";
import type { TwoStepAccount } from "@/features/auth/api/cognito";
import { TwoStepVerification } from "@/features/account/components/TwoStepVerification";

const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/** An account as Cognito answers it: the code "123456" is right, any other is refused. */
function fakeAccount(enabled: boolean) {
  const calls: string[] = [];
  const state = { enabled };
  const account: TwoStepAccount = {
    twoStepStatus: async () => ({ enabled: state.enabled }),
    startTwoStep: async () => {
      calls.push("associate");
      return { secret: SECRET, accountName: "ana@example.com" };
    },
    confirmTwoStep: async (code: string) => {
      calls.push(`verify ${code}`);
      if (code !== "123456") throw new AuthError("EnableSoftwareTokenMFAException", "That code is not right.");
      state.enabled = true;
    },
    disableTwoStep: async (password: string) => {
      calls.push(`disable ${password}`);
      if (password !== "Parley-test-2026!") throw new AuthError("NotAuthorizedException", "Incorrect password.");
      state.enabled = false;
    },
  };
  return { account, calls, state };
}

describe("TwoStepVerification", () => {
  it("enrols: a QR code and the key to type, a wrong code refused and retried, then on", async () => {
    const user = userEvent.setup();
    const { account, calls } = fakeAccount(false);
    render(<TwoStepVerification mode="OPTIONAL" account={account} />);
    expect(await screen.findByText("Off")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Turn on two-step verification" }));

    const dialog = await screen.findByRole("dialog", { name: "Set up two-step verification" });
    // The QR code is drawn here, in the page (an SVG): the secret never leaves the browser.
    const qr = await within(dialog).findByRole("img", { name: /QR code/ });
    expect(qr.tagName.toLowerCase()).toBe("svg");
    expect(dialog.querySelector("img[src]")).toBeNull();
    expect(within(dialog).getByText("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Copy key" })).toBeInTheDocument();

    const code = within(dialog).getByLabelText("6-digit code from the app");
    expect(code).toHaveAttribute("inputmode", "numeric");
    expect(code).toHaveAttribute("autocomplete", "one-time-code");
    await user.type(code, "12");
    await user.click(within(dialog).getByRole("button", { name: "Turn on" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Enter the 6-digit code");
    expect(calls).toEqual(["associate"]); // not sent: it cannot be right

    await user.clear(code);
    await user.type(code, "654321{Enter}");
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("That code is not right.");
    expect(code).toHaveValue("");
    expect(code).toHaveFocus();

    await user.type(code, "123 456{Enter}");
    expect(await screen.findByRole("status")).toHaveTextContent("Two-step verification is on.");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByText("On")).toBeInTheDocument();
    expect(calls).toEqual(["associate", "verify 654321", "verify 123456"]);
  });

  it("turns off after the password, which it asks again when wrong", async () => {
    const user = userEvent.setup();
    const { account, calls } = fakeAccount(true);
    render(<TwoStepVerification mode="OPTIONAL" account={account} />);
    expect(await screen.findByText("On")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Turn off two-step verification" }));
    const dialog = await screen.findByRole("dialog", { name: "Turn off two-step verification?" });
    await user.type(within(dialog).getByLabelText("Password"), "wrong{Enter}");
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Incorrect password.");
    await user.type(within(dialog).getByLabelText("Password"), "Parley-test-2026!");
    await user.click(within(dialog).getByRole("button", { name: "Turn off" }));
    expect(await screen.findByText("Off")).toBeInTheDocument();
    expect(calls).toEqual(["disable wrong", "disable Parley-test-2026!"]);
  });

  it("does not offer turning it off where the environment requires it, and says why", async () => {
    const { account } = fakeAccount(true);
    render(<TwoStepVerification mode="ON" account={account} />);
    expect(await screen.findByText("On")).toBeInTheDocument();
    expect(screen.getByText(/required for every account here/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Turn off/ })).not.toBeInTheDocument();
  });

  it("says when the state cannot be read", async () => {
    const { account } = fakeAccount(false);
    account.twoStepStatus = async () => Promise.reject(new AuthError("NetworkError", "Cannot reach the sign-in service."));
    render(<TwoStepVerification mode="OPTIONAL" account={account} />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Cannot reach the sign-in service.");
  });
});
