import { expect, test, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, lastAssistant, newUser, resetModel, signUp, stack } from "./support";

interface Completion {
  body: { model: string; max_tokens: number };
}

/** The model the scripted server was last asked for (what the provider received). */
async function lastModelAsked(): Promise<string | undefined> {
  const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as Completion[];
  return requests.at(-1)?.body.model;
}

/**
 * Choosing the model: picked when the chat starts, shown and changed in the header (the next
 * reply is the new model's), each reply saying which model wrote it — by keyboard, in light and
 * dark, at phone width. The local stack's scripted catalog: "Scripted assistant" (the default,
 * sent as scripted-model) and "Scripted mini (text only)" (scripted-mini); the staff model is not
 * offered to this user.
 */
test.describe.serial("choosing a model", () => {
  let page: Page;
  const user = newUser("Mina");
  const picker = () => page.locator(".conversation-header").getByRole("combobox", { name: "Model" });

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await resetModel();
    await signUp(page, user);
  });
  test.afterAll(async () => page.context().close());

  test("a new chat starts with the model picked, and its reply is written by it", async () => {
    await page.getByRole("button", { name: "New chat" }).click();
    await expect(picker()).toHaveValue("scripted");
    const offered = await picker().locator("option").allTextContents();
    expect(offered).toEqual(["Scripted assistant", "Scripted mini (text only)"]);
    await picker().focus();
    await picker().selectOption({ label: "Scripted mini (text only)" });
    await expect(picker()).toHaveAccessibleDescription(/Text only · \$0\.05 in \/ \$0\.20 out per 1M tokens/);
    await expectAccessible(page);

    await enqueue({ text: "A small answer from the mini model.", token_delay: 0.02 });
    const created = page.waitForResponse((r) => r.url().endsWith("/conversations") && r.request().method() === "POST");
    await composer(page).fill("Who are you?");
    await composer(page).press("Enter");
    expect(JSON.parse((await created).request().postData() ?? "{}")).toEqual({ kind: "assistant", model: "scripted-mini" });
    await expect(lastAssistant(page)).toContainText("small answer from the mini model", { timeout: 30_000 });
    await expect(lastAssistant(page)).not.toHaveAttribute("aria-busy", "true");
    await expect(lastAssistant(page).getByText("Written by Scripted mini (text only)")).toBeVisible();
    expect(await lastModelAsked()).toBe("scripted-mini");
    await expect(picker()).toHaveValue("scripted-mini");
  });

  test("changed in the header, the next reply is the new model's and the earlier one keeps its own", async () => {
    const saved = page.waitForResponse((r) => /\/conversations\/[^/]+$/.test(r.url()) && r.request().method() === "PATCH");
    await picker().selectOption({ label: "Scripted assistant" });
    expect(JSON.parse((await saved).request().postData() ?? "{}")).toEqual({ model: "scripted" });
    await expect(page.getByText("The next reply will be written by Scripted assistant.")).toBeAttached();

    await enqueue({ text: "The full model answers now.", token_delay: 0.02 });
    await composer(page).fill("And now?");
    await composer(page).press("Enter");
    await expect(lastAssistant(page)).toContainText("The full model answers now.", { timeout: 30_000 });
    await expect(lastAssistant(page)).not.toHaveAttribute("aria-busy", "true");
    await expect(lastAssistant(page).getByText("Written by Scripted assistant")).toBeVisible();
    expect(await lastModelAsked()).toBe("scripted-model");

    await page.reload();
    await expect(picker()).toHaveValue("scripted");
    const replies = page.locator("article.message-assistant");
    await expect(replies.first().getByText("Written by Scripted mini (text only)")).toBeVisible();
    await expect(replies.last().getByText("Written by Scripted assistant")).toBeVisible();
    await expect(replies.last().locator(".usage")).toContainText("$"); // its cost, from the catalog's prices
  });

  test("works in the dark theme and at phone width", async () => {
    await page.getByRole("button", { name: /dark theme/i }).click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await expectAccessible(page);
    await page.setViewportSize({ width: 390, height: 800 });
    await expect(picker()).toBeVisible();
    await expect(picker()).toBeInViewport();
    await expectAccessible(page);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: /light theme/i }).click();
  });
});
