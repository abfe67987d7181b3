import { expect, test } from "@playwright/test";

import { expectAccessible, newUser, screenshot, signUp, stack, totp, totpStep } from "./support";

/**
 * Two-step verification from the account menu, as a person with an authenticator app does it:
 * the app shows a QR code and the key, the test computes the codes from the key it shows (as a
 * phone would), enrols, signs out and signs in again with a fresh code.
 */
test("turn on two-step verification from the account menu, then sign in with a code", async ({ page }) => {
  const user = newUser("Tess");
  await signUp(page, user);

  await page.getByRole("button", { name: user.name }).click();
  const panel = page.getByRole("region", { name: "My account" });
  await expect(panel.getByText("Off", { exact: true })).toBeVisible();
  await panel.getByRole("button", { name: "Turn on two-step verification" }).click();

  const dialog = page.getByRole("dialog", { name: "Set up two-step verification" });
  const qr = dialog.getByRole("img", { name: /QR code/ });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((node) => node.tagName.toLowerCase())).toBe("svg"); // drawn in the page
  const secret = (await dialog.locator("code.totp-secret").innerText()).replace(/\s/g, "");
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  const code = dialog.getByLabel("6-digit code from the app");
  await expect(code).toBeFocused();
  await expectAccessible(page);

  // A wrong code is refused in words, and the person types again.
  const wrong = totp(secret) === "000000" ? "111111" : "000000";
  await code.fill(wrong);
  await code.press("Enter");
  await expect(dialog.getByRole("alert")).toHaveText("That code is not right. Enter the code your authenticator app shows now.");
  await expect(code).toBeFocused();

  const enrolStep = totpStep();
  await code.fill(totp(secret, enrolStep));
  await dialog.getByRole("button", { name: "Turn on" }).click();
  await expect(dialog).toBeHidden();
  await expect(panel.getByText("Two-step verification is on.", { exact: false })).toBeVisible();
  await expect(panel.getByText("On", { exact: true })).toBeVisible();

  // Sign out, sign in again: the password, then a fresh code (the one used above works once).
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  const signInCode = page.getByLabel("6-digit code from the app");
  await expect(signInCode).toHaveAttribute("autocomplete", "one-time-code");
  await signInCode.fill(totp(secret, Math.max(totpStep(), enrolStep + 1)));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("heading", { name: `Welcome, ${user.name}` })).toBeVisible();
  expect(stack().appUrl).toBeTruthy();
});

test("the setup fits a phone and reads well in the dark theme", async ({ page }) => {
  const user = newUser("Pia");
  await signUp(page, user);
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await page.setViewportSize({ width: 390, height: 700 });
  await page.getByRole("button", { name: user.name }).click();
  await page.getByRole("button", { name: "Turn on two-step verification" }).click();
  const dialog = page.getByRole("dialog", { name: "Set up two-step verification" });
  await expect(dialog.getByRole("img", { name: /QR code/ })).toBeVisible();
  await screenshot(page, "two-step-phone-dark");
  const box = await dialog.boundingBox();
  expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
  await dialog.getByRole("button", { name: "Turn on" }).scrollIntoViewIfNeeded();
  await expect(dialog.getByRole("button", { name: "Turn on" })).toBeInViewport();
  await expectAccessible(page);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await page.getByRole("button", { name: "Switch to light theme" }).click();
});
