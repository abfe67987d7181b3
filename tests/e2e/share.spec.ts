import { expect, test, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, lastAssistant, newUser, resetModel, screenshot, signUp } from "./support";

/**
 * Sharing a conversation: the owner makes a link from the header, the link opens in a signed-out
 * browser showing the snapshot (a later message is not in it), in light and dark and at phone
 * width, and once revoked the link shows a clear page.
 */
test.describe.serial("sharing a conversation", () => {
  let owner: Page;
  let reader: Page;
  let link = "";
  const user = newUser("Sol");

  test.beforeAll(async ({ browser }) => {
    owner = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await resetModel();
    await signUp(owner, user);
  });
  test.afterAll(async () => {
    await owner.context().close();
    await reader?.context().close();
  });

  const dialog = () => owner.getByRole("dialog", { name: /^Share/ });

  test("the owner makes a link from the conversation's header", async () => {
    await enqueue({ text: "Lisbon is **lovely** in May.", token_delay: 0.02 });
    await owner.getByRole("button", { name: "New chat" }).click();
    await composer(owner).fill("Where should I travel in May?");
    await composer(owner).press("Enter");
    await expect(lastAssistant(owner)).toContainText("lovely", { timeout: 30_000 });
    await expect(lastAssistant(owner)).not.toHaveAttribute("aria-busy", "true");

    await owner.getByRole("button", { name: "Share", exact: true }).click();
    await expect(dialog()).toBeVisible();
    await expect(dialog().getByText("No links yet.")).toBeVisible();
    await expectAccessible(owner);
    const made = owner.waitForResponse((r) => r.url().endsWith("/shares") && r.request().method() === "POST");
    await dialog().getByRole("button", { name: "Create link" }).click();
    expect((await made).status()).toBe(201);
    const field = dialog().getByLabel("New link");
    await expect(field).toHaveValue(/\/#\/s\/[A-Za-z0-9_-]{24}$/);
    link = await field.inputValue();
    await expect(dialog().getByRole("list", { name: "Share links" }).getByRole("listitem")).toHaveCount(1);
    await expectAccessible(owner);
    await screenshot(owner, "share-dialog");
    await owner.keyboard.press("Escape");
    await expect(dialog()).toBeHidden();
  });

  test("the link opens signed out and shows the snapshot, not what was said later", async ({ browser }) => {
    await enqueue({ text: "A later answer nobody should see.", token_delay: 0.01 });
    await composer(owner).fill("And in June?");
    await composer(owner).press("Enter");
    await expect(lastAssistant(owner)).toContainText("nobody should see", { timeout: 30_000 });

    reader = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const cognito: string[] = [];
    reader.on("request", (r) => {
      if (r.url().includes("cognito") || r.headers()["x-amz-target"]?.includes("Cognito")) cognito.push(r.url());
    });
    await reader.goto(link);
    await expect(reader.getByRole("heading", { level: 1 })).toBeVisible();
    const messages = reader.getByRole("list", { name: "Messages" }).getByRole("listitem");
    await expect(messages).toHaveCount(2);
    await expect(messages.nth(0)).toContainText("Where should I travel in May?");
    await expect(messages.nth(0)).toContainText(user.name);
    await expect(messages.nth(1).locator("strong")).toHaveText("lovely"); // the chat's markdown
    await expect(reader.getByText("And in June?")).toHaveCount(0);
    await expect(reader.getByText("nobody should see")).toHaveCount(0);
    await expect(reader.getByRole("button", { name: /sign in/i })).toHaveCount(0);
    expect(cognito).toEqual([]);
    await expectAccessible(reader);
    await screenshot(reader, "shared");

    await reader.getByRole("button", { name: /dark theme/i }).click();
    await expect(reader.locator("html")).toHaveAttribute("data-theme", "dark");
    await expectAccessible(reader);
    await reader.setViewportSize({ width: 390, height: 800 });
    await expect(messages.nth(1)).toBeVisible();
    const overflow = await reader.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(reader);
    await screenshot(reader, "shared-phone-dark");
  });

  test("revoked, the link shows a clear page", async () => {
    await owner.getByRole("button", { name: "Share", exact: true }).click();
    const revoked = owner.waitForResponse((r) => r.url().includes("/shares/") && r.request().method() === "DELETE");
    await dialog().getByRole("button", { name: /^Revoke the link created/ }).click();
    expect((await revoked).status()).toBe(204);
    await expect(dialog().getByText("No links yet.")).toBeVisible();
    await expect(dialog().getByRole("status")).toHaveText(/revoked/);

    await reader.reload();
    const alert = reader.getByRole("alert");
    await expect(alert.getByRole("heading", { name: "This link was revoked" })).toBeVisible();
    await expect(reader.getByText("Where should I travel in May?")).toHaveCount(0);
    await expectAccessible(reader);
    await reader.goto(link.replace(/[A-Za-z0-9_-]{24}$/, "A".repeat(24)));
    await expect(reader.getByRole("heading", { name: "This link does not exist" })).toBeVisible();
  });
});
