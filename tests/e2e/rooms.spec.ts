import { expect, test, type Browser, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, idToken, newUser, resetModel, screenshot, signUp, stack, userId } from "./support";

/** Two people in two browser contexts share a room: invite, presence, typing, messages, @assistant, leave. */
test.describe.serial("rooms with other people", () => {
  let owner: Page;
  let guest: Page;
  const ana = newUser("Ana");
  const ben = newUser("Ben");
  const roomName = `Launch plan ${Date.now().toString(36)}`;

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

  test("the owner creates a room and invites by email", async () => {
    await owner.getByRole("button", { name: "New room" }).click();
    const dialog = owner.getByRole("dialog", { name: "New room" });
    await dialog.getByLabel("Room name").fill(roomName);
    await dialog.getByRole("button", { name: "Create room" }).click();
    await expect(owner.getByRole("heading", { level: 1, name: roomName })).toBeVisible();
    const members = owner.getByRole("complementary", { name: "Members" });
    await members.getByLabel("Invite by email").fill("nobody-here@example.com");
    await members.getByRole("button", { name: "Invite" }).click();
    await expect(members.locator(".field-error")).toBeVisible();
    await members.getByLabel("Invite by email").fill(ben.email);
    await members.getByRole("button", { name: "Invite" }).click();
    await expect(members.getByRole("listitem").filter({ hasText: /ben/i })).toBeVisible();
    // "Ben joined the room." is read, then fades away.
    const joined = members.getByText(/joined the room\./);
    await expect(joined).toBeVisible();
    await expect(joined).toHaveCount(0, { timeout: 15_000 });
  });

  test("the room's placeholder fits the message box at phone width", async () => {
    for (const width of [360, 1280]) {
      await owner.setViewportSize({ width, height: 800 });
      const fit = await composer(owner).evaluate((element) => {
        const box = element as HTMLTextAreaElement;
        const style = getComputedStyle(box);
        const context = document.createElement("canvas").getContext("2d")!;
        context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return { text: context.measureText(box.placeholder).width, room, placeholder: box.placeholder };
      });
      expect(fit.text, `“${fit.placeholder}” at ${width} px`).toBeLessThanOrEqual(fit.room);
    }
  });

  test("the invitee's list shows the room at once, without a reload", async () => {
    await expect(guest.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(roomName) })).toBeVisible({
      timeout: 15_000,
    });
  });

  test("both see each other online, typing and messages", async () => {
    await guest.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(roomName) }).click();
    await expect(guest.getByRole("heading", { level: 1, name: roomName })).toBeVisible();

    const ownerMembers = owner.getByRole("complementary", { name: "Members" });
    await expect(ownerMembers.locator('li[data-online="true"]')).toHaveCount(2, { timeout: 20_000 });
    const guestMembers = guest.getByRole("complementary", { name: "Members" });
    await expect(guestMembers.locator('li[data-online="true"]')).toHaveCount(2);

    await composer(owner).pressSequentially("Hello Ben", { delay: 30 });
    // The name is the profile's (or the e-mail's local part where the profile has none).
    await expect(guest.locator(".typing")).toHaveText(/^Ana\S* is typing…$/i);
    await composer(owner).press("Enter");
    // Deliveries cross the gateway emulator's function processes: allow for a busy machine.
    await expect(guest.locator("article.message-user").filter({ hasText: "Hello Ben" })).toBeVisible({ timeout: 30_000 });
    await expect(guest.locator(".typing")).toHaveText("");
    await expect(guest.locator("article").filter({ hasText: "Hello Ben" }).locator(".message-author")).toContainText("Ana");

    await composer(guest).fill("Hi Ana!");
    await composer(guest).press("Enter");
    await expect(owner.locator("article.message-user").filter({ hasText: "Hi Ana!" })).toBeVisible({ timeout: 30_000 });
    await expectAccessible(guest);
  });

  test("a member whose connection dropped catches up on what was said meanwhile", async () => {
    const badge = guest.locator(".connection");
    await guest.context().setOffline(true);
    await expect(badge).not.toHaveAttribute("data-state", "open");
    await composer(owner).fill("Said while Ben was away");
    await composer(owner).press("Enter");
    await expect(owner.locator("article.message-user").filter({ hasText: "Said while Ben was away" })).toBeVisible({ timeout: 30_000 });
    await guest.context().setOffline(false);
    await expect(badge).toHaveAttribute("data-state", "open", { timeout: 30_000 });
    await expect(guest.locator("article.message-user").filter({ hasText: "Said while Ben was away" })).toBeVisible({ timeout: 30_000 });
  });

  test("@assistant is offered as you type and answers for everyone", async () => {
    await enqueue({ text: "Happy to help the room: ship on **Friday**.", token_delay: 0.03 });
    await composer(guest).pressSequentially("@ass", { delay: 20 });
    const option = guest.getByRole("option", { name: "@assistant" });
    await expect(option).toBeVisible();
    await composer(guest).press("Enter");
    await expect(composer(guest)).toHaveValue("@assistant ");
    await composer(guest).pressSequentially("when do we ship?");
    await composer(guest).press("Enter");
    for (const page of [owner, guest]) {
      await expect(page.locator("article.message-assistant").last()).toContainText("ship on Friday", { timeout: 30_000 });
    }
    await screenshot(owner, "room");
    await screenshot(guest, "room-guest");
  });

  test("leaving the room takes it off the list and updates presence", async () => {
    await guest.getByRole("complementary", { name: "Members" }).getByRole("button", { name: "Leave room" }).click();
    await guest.getByRole("dialog", { name: "Leave this room?" }).getByRole("button", { name: "Leave" }).click();
    await expect(guest.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
    await expect(guest.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(roomName) })).toHaveCount(0);
    await owner.reload();
    const members = owner.getByRole("complementary", { name: "Members" });
    await expect(members.getByRole("listitem")).toHaveCount(1);
  });

  test("the search box finds the room's messages, opens the room at one, and finds nothing for who left", async () => {
    const search = owner.getByRole("searchbox", { name: "Search conversations and messages" });
    await search.fill("away");
    const results = owner.getByRole("list", { name: "Messages found" });
    const result = results.getByRole("link", { name: /Said while Ben was away/ });
    await expect(result).toBeVisible({ timeout: 15_000 });
    await expect(result).toContainText(roomName);
    await expect(result.locator("mark")).toHaveText(["away"]);
    await expectAccessible(owner);
    await result.focus();
    await owner.keyboard.press("Enter");
    await expect(owner).toHaveURL(/#\/c\/[0-9A-Z]{26}\/m\/[0-9A-Z]{26}$/);
    const target = owner.locator("article.search-target");
    await expect(target).toContainText("Said while Ben was away");
    await expect(target).toBeFocused();
    await search.fill("");
    // Ben left the room above: its words are no longer his to find.
    await guest.getByRole("searchbox", { name: "Search conversations and messages" }).fill("away");
    await expect(guest.getByRole("status").filter({ hasText: "No messages match." })).toBeVisible({ timeout: 15_000 });
    await guest.getByRole("searchbox", { name: "Search conversations and messages" }).fill("");
  });

  test("a member the owner removes loses the room from their list and their open page", async () => {
    const members = owner.getByRole("complementary", { name: "Members" });
    await members.getByLabel("Invite by email").fill(ben.email);
    await members.getByRole("button", { name: "Invite" }).click();
    const link = guest.getByRole("navigation", { name: "Conversations" }).getByRole("link", { name: new RegExp(roomName) });
    await expect(link).toBeVisible({ timeout: 15_000 });
    await link.click();
    await expect(guest.getByRole("heading", { level: 1, name: roomName })).toBeVisible();
    // The owner removes Ben (over the API: the app offers only Leave).
    const roomId = /[0-9A-HJKMNP-TV-Z]{26}/.exec(owner.url())![0];
    const removed = await fetch(`${stack().httpApiUrl}/conversations/${roomId}/members/${await userId(guest)}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${await idToken(owner)}` },
    });
    expect(removed.status).toBe(204);
    await expect(link).toHaveCount(0, { timeout: 15_000 });
    await expect(guest.getByText("This conversation does not exist or you are not a member.")).toBeVisible();
  });
});
