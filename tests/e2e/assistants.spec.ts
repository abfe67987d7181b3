import { expect, test, type Browser, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, newUser, resetModel, screenshot, signUp, stack } from "./support";

interface Completion {
  body: { model: string; temperature?: number; messages: { role: string; content: string }[] };
}

/** What the scripted model was last asked (the request the provider received). */
async function lastRequest(): Promise<Completion["body"]> {
  const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as Completion[];
  const last = requests.at(-1);
  expect(last, "the model was asked").toBeDefined();
  return last!.body;
}

const INSTRUCTIONS = "You are Poet. Answer only in rhyming couplets.";

/**
 * An assistant of one's own: made on the Assistants page (keyboard, light and dark, phone
 * width), added by a room's owner, called by another member with @handle from the composer's
 * autocomplete, answering under its own name with its instructions as the system prompt, its
 * model and its temperature; a chat started from it; deleted with confirmation.
 */
test.describe.serial("create an assistant and use it in a room", () => {
  let owner: Page;
  let guest: Page;
  const ana = newUser("Ana");
  const ben = newUser("Ben");
  const roomName = `Poetry ${Date.now().toString(36)}`;
  const open = async (browser: Browser) => (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();

  test.beforeAll(async ({ browser }) => {
    await resetModel();
    owner = await open(browser);
    guest = await open(browser);
    await signUp(owner, ana);
    await signUp(guest, ben);
  });
  test.afterAll(async () => {
    await owner.context().close();
    await guest.context().close();
  });

  test("the owner makes an assistant on the Assistants page", async () => {
    await owner.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: "Assistants" }).click();
    await expect(owner.getByRole("heading", { level: 1, name: "Assistants" })).toBeVisible();
    await owner.getByRole("button", { name: "New assistant" }).click();
    const form = owner.getByRole("form", { name: "New assistant" });
    await expect(form.getByRole("textbox", { name: "Name" })).toBeVisible();
    // By keyboard: the handle is refused in words before anything is sent.
    await form.getByRole("textbox", { name: "Handle" }).fill("assistant");
    await expect(form.getByRole("textbox", { name: "Handle" })).toHaveAccessibleDescription(/default assistant's handle/);
    await form.getByRole("textbox", { name: "Name" }).fill("Poet");
    await form.getByRole("textbox", { name: "Handle" }).fill("poet");
    await form.getByRole("textbox", { name: "Instructions" }).fill(INSTRUCTIONS);
    await form.getByRole("combobox", { name: "Model" }).selectOption({ label: "Scripted mini (text only)" });
    await form.getByRole("spinbutton", { name: "Temperature" }).fill("0.3");
    await expectAccessible(owner);
    await form.getByRole("textbox", { name: "Instructions" }).focus();
    await owner.keyboard.press("Tab"); // to the model
    await owner.keyboard.press("Tab"); // to the temperature
    await owner.keyboard.press("Tab"); // Cancel
    await owner.keyboard.press("Tab"); // Create assistant
    await expect(form.getByRole("button", { name: "Create assistant" })).toBeFocused();
    await owner.keyboard.press("Enter");
    const card = owner.getByRole("list", { name: "My assistants" }).getByRole("listitem").filter({ hasText: "@poet" });
    await expect(card).toBeVisible();
    await expect(card).toContainText("Scripted mini (text only) · temperature 0.3");

    // Dark theme and phone width stay readable and accessible.
    await owner.getByRole("button", { name: "Switch to dark theme" }).click();
    await owner.setViewportSize({ width: 360, height: 760 });
    await expect(card.getByRole("button", { name: "Start a chat with Poet" })).toBeVisible();
    const overflow = await owner.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(owner);
    await screenshot(owner, "assistants-phone-dark");
    await owner.setViewportSize({ width: 1280, height: 800 });
    await owner.getByRole("button", { name: "Switch to light theme" }).click();
  });

  test("the owner makes a room, invites a member and adds the assistant", async () => {
    await owner.getByRole("button", { name: "New room" }).click();
    const dialog = owner.getByRole("dialog", { name: "New room" });
    await dialog.getByLabel("Room name").fill(roomName);
    await dialog.getByRole("button", { name: "Create room" }).click();
    await expect(owner.getByRole("heading", { level: 1, name: roomName })).toBeVisible();
    const members = owner.getByRole("complementary", { name: "Members" });
    await members.getByLabel("Invite by email").fill(ben.email);
    await members.getByRole("button", { name: "Invite" }).click();
    await expect(members.getByRole("listitem").filter({ hasText: /ben/i })).toBeVisible();
    const panel = owner.getByRole("region", { name: "Assistants" });
    await panel.getByRole("combobox", { name: "Add one of your assistants" }).selectOption({ label: "Poet (@poet)" });
    await panel.getByRole("button", { name: "Add to room" }).click();
    await expect(panel.getByRole("button", { name: "Remove Poet from this room" })).toBeVisible();
    await expectAccessible(owner);
  });

  test("a member calls it with @poet from the autocomplete and it answers as itself", async () => {
    await guest.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(roomName) }).click();
    await expect(guest.getByRole("heading", { level: 1, name: roomName })).toBeVisible();
    await expect(guest.getByRole("region", { name: "Assistants" }).getByText("@poet")).toBeVisible();
    await enqueue({ text: "The rain comes down on every street, / and taps a rhythm at your feet.", token_delay: 0.02 });
    await composer(guest).pressSequentially("@po", { delay: 20 });
    const option = guest.getByRole("option", { name: "@poet" });
    await expect(option).toBeVisible();
    await expect(composer(guest)).toHaveAttribute("aria-expanded", "true");
    await composer(guest).press("ArrowDown");
    await composer(guest).press("ArrowUp");
    await composer(guest).press("Enter");
    await expect(composer(guest)).toHaveValue("@poet ");
    await composer(guest).pressSequentially("write about the rain");
    await composer(guest).press("Enter");
    for (const page of [owner, guest]) {
      const reply = page.getByRole("article", { name: "Poet said" }).last();
      await expect(reply).toContainText("taps a rhythm at your feet", { timeout: 30_000 });
      await expect(reply).not.toHaveAttribute("aria-busy", "true");
    }
    const asked = await lastRequest();
    expect(asked.model).toBe("scripted-mini");
    expect(asked.temperature).toBe(0.3);
    const system = asked.messages.filter((m) => m.role === "system").map((m) => m.content);
    expect(system).toHaveLength(1);
    expect(system[0]!.startsWith(INSTRUCTIONS)).toBe(true);
    expect(system[0]).not.toContain("write about the rain");
    expect(asked.messages.at(-1)).toEqual({ role: "user", content: '"Ben": @poet write about the rain' });
    await expectAccessible(guest);
    await screenshot(guest, "room-assistant");
  });

  test("a chat started from the assistant answers with its instructions alone", async () => {
    await owner.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: "Assistants" }).click();
    await owner.getByRole("button", { name: "Start a chat with Poet" }).click();
    await expect(owner.locator(".conversation-header")).toContainText("With Poet");
    await enqueue({ text: "A chat with me is short and sweet, / a couplet here and it's complete.", token_delay: 0.02 });
    await composer(owner).fill("Say hello");
    await composer(owner).press("Enter");
    await expect(owner.getByRole("article", { name: "Poet said" }).last()).toContainText("short and sweet", { timeout: 30_000 });
    const asked = await lastRequest();
    expect(asked.messages.filter((m) => m.role === "system").map((m) => m.content)).toEqual([INSTRUCTIONS]);
    expect(asked.model).toBe("scripted-mini");
  });

  test("deleting it asks first; the room stops offering it and the chat goes on", async () => {
    await owner.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: "Assistants" }).click();
    await owner.getByRole("button", { name: "Delete assistant Poet" }).click();
    const dialog = owner.getByRole("dialog", { name: "Delete assistant Poet?" });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(owner.getByRole("button", { name: "Delete assistant Poet" })).toBeFocused();
    await owner.getByRole("button", { name: "Delete assistant Poet" }).click();
    await owner.getByRole("dialog", { name: "Delete assistant Poet?" }).getByRole("button", { name: "Delete" }).click();
    await expect(owner.getByRole("list", { name: "My assistants" })).toHaveCount(0);
    await guest.reload();
    await expect(guest.getByRole("region", { name: "Assistants" }).getByText("@poet")).toHaveCount(0);
    await composer(guest).pressSequentially("@po", { delay: 20 });
    await expect(guest.getByRole("option", { name: "@poet" })).toHaveCount(0);
  });
});
