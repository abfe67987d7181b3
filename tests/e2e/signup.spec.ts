import { expect, test } from "@playwright/test";

import { expectAccessible, mailbox, newUser, signUp, stack } from "./support";

/**
 * Who may sign up: the browser suite's stack lets addresses at example.com and invited ones
 * sign up (tests/e2e/stack.py). A refused address is told why on the sign-up form, in the
 * environment's words (not Cognito's "PreSignUp failed with error …"); an allowed one gets the
 * app's own verification e-mail.
 */
test("a refused sign-up says why on the form; an allowed one gets the app's e-mail", async ({ page }) => {
  const eve = { ...newUser("Eve"), email: `eve.${Date.now().toString(36)}@elsewhere.example` };
  await page.goto(stack().appUrl);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill(eve.name);
  await page.getByLabel("Email").fill(eve.email);
  await page.getByLabel("Password").fill(eve.password);
  await page.getByRole("button", { name: "Create account" }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toHaveText(
    "Sign-up is open to addresses at example.com and to invited addresses: ask a room owner to invite this address.",
  );
  await expect(alert).not.toContainText("PreSignUp");
  await expect(page.getByRole("button", { name: "Create account" })).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(eve.email);
  await expectAccessible(page);
  expect(await mailbox(eve.email)).toEqual([]);

  const ann = newUser("Ann");
  await signUp(page, ann);
  const [mail] = (await mailbox(ann.email)).filter((m) => m.kind === "verification");
  expect(mail?.subject).toBe("Your Parley verification code");
  expect(mail?.body).toContain(`Your verification code is ${mail?.code}.`);
  expect(mail?.html).toContain(`<a href="${stack().appUrl}">Open Parley</a>`);
});
