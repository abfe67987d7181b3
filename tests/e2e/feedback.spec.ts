import { expect, test, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, lastAssistant, newUser, resetModel, screenshot, signUp } from "./support";

/**
 * Rating the assistant's replies: thumbs up, reload (still shown), change to thumbs down with a
 * comment, reload, take it back — by keyboard and mouse, in light and dark, at phone width.
 */
test.describe.serial("rating a reply", () => {
  let page: Page;
  const user = newUser("Rui");

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await resetModel();
    await signUp(page, user);
  });
  test.afterAll(async () => page.context().close());

  const rating = () => lastAssistant(page).getByRole("group", { name: "Rate this answer" });
  const helpful = () => rating().getByRole("button", { name: "Helpful", exact: true });
  const notHelpful = () => rating().getByRole("button", { name: "Not helpful" });

  test("a finished reply is rated helpful, and the rating is still there after a reload", async () => {
    await enqueue({ text: "Paris is the capital of France.", token_delay: 0.05 });
    await page.getByRole("button", { name: "New chat" }).click();
    await composer(page).fill("What is the capital of France?");
    await composer(page).press("Enter");
    await expect(lastAssistant(page)).toContainText("capital of France", { timeout: 30_000 });
    await expect(lastAssistant(page)).not.toHaveAttribute("aria-busy", "true");
    // A person's message has nothing to rate.
    await expect(page.locator("article.message-user").getByRole("group", { name: "Rate this answer" })).toHaveCount(0);
    await expect(helpful()).toHaveAttribute("aria-pressed", "false");

    const saved = page.waitForResponse((r) => r.url().endsWith("/feedback") && r.request().method() === "PUT");
    await helpful().click();
    expect((await saved).status()).toBe(200);
    await expect(helpful()).toHaveAttribute("aria-pressed", "true");
    await expectAccessible(page);

    await page.reload();
    await expect(lastAssistant(page)).toContainText("capital of France");
    await expect(helpful()).toHaveAttribute("aria-pressed", "true");
    await expect(notHelpful()).toHaveAttribute("aria-pressed", "false");
  });

  test("changed to not helpful with a comment, by keyboard, and kept across a reload", async () => {
    await notHelpful().focus();
    const saved = page.waitForResponse((r) => r.url().endsWith("/feedback") && r.request().method() === "PUT");
    await page.keyboard.press("Enter");
    expect((await saved).status()).toBe(200);
    await expect(notHelpful()).toHaveAttribute("aria-pressed", "true");
    await expect(helpful()).toHaveAttribute("aria-pressed", "false");
    const field = lastAssistant(page).getByRole("textbox", { name: "What was wrong? (optional)" });
    await expect(field).toBeFocused();
    await expectAccessible(page);
    const commented = page.waitForResponse((r) => r.url().endsWith("/feedback") && r.request().method() === "PUT");
    await field.fill("It could say why.");
    await page.keyboard.press("Enter");
    expect(JSON.parse((await commented).request().postData() ?? "{}")).toEqual({ rating: "down", comment: "It could say why." });
    await expect(lastAssistant(page).getByText("It could say why.")).toBeVisible();

    await page.reload();
    await expect(notHelpful()).toHaveAttribute("aria-pressed", "true");
    await expect(lastAssistant(page).getByText("It could say why.")).toBeVisible();
    await expect(lastAssistant(page).getByRole("button", { name: "Edit comment" })).toBeVisible();
    await screenshot(page, "feedback");
  });

  test("works in the dark theme and at phone width", async () => {
    await page.getByRole("button", { name: /dark theme/i }).click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await expectAccessible(page);
    await page.setViewportSize({ width: 390, height: 800 });
    await expect(notHelpful()).toBeVisible();
    await expect(notHelpful()).toBeInViewport();
    await expectAccessible(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: /light theme/i }).click();
  });

  test("pressing the same thumb again takes the rating back, and it stays gone after a reload", async () => {
    const removed = page.waitForResponse((r) => r.url().endsWith("/feedback") && r.request().method() === "DELETE");
    await notHelpful().click();
    expect((await removed).status()).toBe(204);
    await expect(notHelpful()).toHaveAttribute("aria-pressed", "false");
    await expect(lastAssistant(page).getByText("It could say why.")).toHaveCount(0);
    await page.reload();
    await expect(lastAssistant(page)).toContainText("capital of France");
    await expect(helpful()).toHaveAttribute("aria-pressed", "false");
    await expect(notHelpful()).toHaveAttribute("aria-pressed", "false");
  });
});
