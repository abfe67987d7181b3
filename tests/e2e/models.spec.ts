import { expect, test, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, lastAssistant, newUser, resetModel, screenshot, signUp, stack } from "./support";

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

  test("regenerate with another model, flip between the versions, each names its model", async () => {
    const reply = lastAssistant(page);
    const versions = reply.getByRole("group", { name: "Answer versions" });
    await enqueue({ text: "A second take, from the mini model.", token_delay: 0.02 });
    // By keyboard: the menu button opens on the first model; ↓ moves to the mini one.
    const menuButton = reply.getByRole("button", { name: "Regenerate with…" });
    await menuButton.focus();
    await page.keyboard.press("Enter");
    const menu = page.getByRole("menu", { name: "Regenerate with" });
    await expect(menu.getByRole("menuitem")).toHaveText(["Scripted assistant wrote this version", "Scripted mini (text only)"]);
    await expect(menu.getByRole("menuitem").first()).toBeFocused();
    await expectAccessible(page);
    await page.keyboard.press("ArrowDown");
    await expect(menu.getByRole("menuitem", { name: "Scripted mini (text only)" })).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(menu).toBeHidden();
    await expect(reply).toContainText("A second take, from the mini model.", { timeout: 30_000 });
    await expect(reply).not.toHaveAttribute("aria-busy", "true");
    expect(await lastModelAsked()).toBe("scripted-mini");
    await expect(versions).toContainText("2/2");
    await expect(reply.getByText("Written by Scripted mini (text only)")).toBeVisible();
    const miniCost = await reply.locator(".usage").innerText();
    expect(miniCost).toContain("$");
    // The conversation's own model is unchanged: the picker still shows it.
    await expect(picker()).toHaveValue("scripted");

    // Flipping shows each version's model and cost.
    await versions.getByRole("button", { name: "Previous version" }).click();
    await expect(reply).toContainText("The full model answers now.");
    await expect(reply.getByText("Written by Scripted assistant")).toBeVisible();
    const fullCost = await reply.locator(".usage").innerText();
    expect(fullCost).toContain("$");
    expect(fullCost).not.toBe(miniCost);
    await versions.getByRole("button", { name: "Next version" }).click();
    await expect(reply.getByText("Written by Scripted mini (text only)")).toBeVisible();
    await expect(reply.locator(".usage")).toHaveText(miniCost);

    // Plain Regenerate is the conversation's model again, a third version.
    await enqueue({ text: "A third take, from the full model.", token_delay: 0.02 });
    await reply.getByRole("button", { name: "Regenerate", exact: true }).click();
    await expect(reply).toContainText("A third take, from the full model.", { timeout: 30_000 });
    await expect(reply).not.toHaveAttribute("aria-busy", "true");
    expect(await lastModelAsked()).toBe("scripted-model");
    await expect(versions).toContainText("3/3");
    await expect(reply.getByText("Written by Scripted assistant")).toBeVisible();
    await reply.getByRole("button", { name: "Regenerate with…" }).click();
    await expect(menu).toBeVisible();
    await screenshot(page, "versions");
    await page.keyboard.press("Escape");
    await expect(menu).toBeHidden();
    await expect(reply.getByRole("button", { name: "Regenerate with…" })).toBeFocused();
  });

  test("works in the dark theme and at phone width", async () => {
    await page.getByRole("button", { name: /dark theme/i }).click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await expectAccessible(page);
    await page.setViewportSize({ width: 390, height: 800 });
    await expect(picker()).toBeVisible();
    await expect(picker()).toBeInViewport();
    await expectAccessible(page);
    // The reply's "Regenerate with…" menu fits the phone's width, in the dark theme too.
    await lastAssistant(page).getByRole("button", { name: "Regenerate with…" }).click();
    const menu = page.getByRole("menu", { name: "Regenerate with" });
    for (const item of await menu.getByRole("menuitem").all()) await expect(item).toBeInViewport({ ratio: 1 });
    await expectAccessible(page);
    await screenshot(page, "versions-phone-dark");
    await page.keyboard.press("Escape");
    await expect(menu).toBeHidden();
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole("button", { name: /light theme/i }).click();
  });
});
