import { expect, test, type Browser, type Page } from "@playwright/test";
import { expectAccessible, idToken, newUser, screenshot, signIn, signUp, stack } from "./support";

/** The signed-in tab's ID token claims. */
async function claims(page: Page): Promise<Record<string, unknown>> {
  const payload = (await idToken(page)).split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
}

/** The stack's admin user (a member of the `admins` group: its ID token says `parley:role` admin). */
function adminUser(): { email: string; password: string } {
  return (stack() as unknown as { adminUser: { email: string; password: string } }).adminUser;
}

async function memberPage(browser: Browser, member: ReturnType<typeof newUser>): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signUp(page, member);
  return page;
}

/**
 * The admin console: the admin finds a user by e-mail, disables them after confirming, and
 * sees the entry in the audit log; a member sees no link, and the API refuses them. By
 * keyboard and mouse, light and dark, at phone width.
 */
test.describe.serial("the admin console", () => {
  let admin: Page;
  let member: Page;
  const person = newUser("Mia");

  test.beforeAll(async ({ browser }) => {
    member = await memberPage(browser, person);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    admin = await context.newPage();
    await signIn(admin, adminUser().email, adminUser().password);
    // The pre-token-generation trigger's claim, from the `admins` group; a member's says member.
    expect((await claims(admin))["parley:role"]).toBe("admin");
    expect((await claims(member))["parley:role"]).toBe("member");
  });
  test.afterAll(async () => {
    await admin.context().close();
    await member.context().close();
  });

  test("a member has no link to it, and the API refuses them", async () => {
    await member.getByRole("button", { name: person.name }).click();
    await expect(member.getByText(`Signed in as ${person.email}`)).toBeVisible();
    await expect(member.getByRole("link", { name: "Admin console" })).toHaveCount(0);
    await member.keyboard.press("Escape");
    await member.goto(`${stack().appUrl}/#/admin`);
    await expect(member.getByRole("heading", { name: "Not available" })).toBeVisible();
    const answer = await fetch(`${stack().httpApiUrl}/admin/users`, { headers: { Authorization: `Bearer ${await idToken(member)}` } });
    expect(answer.status).toBe(403);
  });

  test("the admin finds the user by the start of their e-mail", async () => {
    await admin.getByRole("button", { name: /Admin/ }).first().click();
    await admin.getByRole("link", { name: "Admin console" }).click();
    await expect(admin.getByRole("heading", { name: "Admin console" })).toBeFocused();
    const search = admin.getByRole("searchbox", { name: "Search by e-mail" });
    await search.fill(person.email.slice(0, 12));
    await search.press("Enter");
    const row = admin.getByRole("row", { name: new RegExp(person.email) });
    await expect(row).toBeVisible();
    await expect(row.getByText("Enabled")).toBeVisible();
    await expectAccessible(admin);
    await screenshot(admin, "admin-users");
    await row.getByRole("link", { name: person.email }).click();
    await expect(admin.getByRole("heading", { name: person.email })).toBeVisible();
  });

  test("disables them after confirming; their open app is disconnected", async () => {
    await admin.getByRole("button", { name: "Disable user" }).click();
    const dialog = admin.getByRole("dialog", { name: `Disable ${person.email}?` });
    await expect(dialog).toBeVisible();
    await expectAccessible(admin);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(admin.getByRole("button", { name: "Disable user" })).toBeFocused();

    await admin.keyboard.press("Enter");
    const done = admin.waitForResponse((r) => r.url().endsWith("/disable") && r.request().method() === "POST");
    await admin.getByRole("dialog").getByRole("button", { name: "Disable", exact: true }).click();
    expect((await done).status()).toBe(200);
    await expect(admin.getByText(`${person.email} is disabled.`)).toBeVisible();
    await expect(admin.getByRole("button", { name: "Enable user" })).toBeVisible();

    // The member's next call is refused, and the app says so; their socket does not come back.
    // (Cognito also refuses their refresh token, which signs them out; moto keeps refreshing it.)
    await member.reload();
    await expect(member.getByText("This account is disabled").first()).toBeVisible({ timeout: 30_000 });
    await expect(member.getByRole("status").filter({ hasText: "Live" })).toHaveCount(0);
  });

  test("the audit log shows who disabled whom, before and after", async () => {
    await admin.getByRole("link", { name: "Audit log" }).click();
    const entry = admin.getByRole("row", { name: new RegExp(`Disabled.*${person.email}|${person.email}.*Disabled`) }).first();
    await expect(entry).toBeVisible();
    await expect(entry).toContainText(adminUser().email);
    await expect(entry).toContainText("disabled: no → yes");
    await expect(admin.getByRole("button", { name: /delete|edit/i })).toHaveCount(0);
    await expectAccessible(admin);
  });

  test("dark theme and phone width", async () => {
    await admin.getByRole("button", { name: "Switch to dark theme" }).click();
    await admin.setViewportSize({ width: 390, height: 800 });
    // Nothing is wider than the phone: the tables scroll inside their own region.
    const overflow = () => admin.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await admin.getByRole("link", { name: "Users" }).click();
    await expect(admin.getByRole("searchbox", { name: "Search by e-mail" })).toBeVisible();
    await admin.getByRole("link", { name: "Audit log" }).click();
    await expect(admin.getByRole("table")).toBeVisible();
    await expectAccessible(admin);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(admin, "admin-audit-phone-dark");
    await admin.getByRole("link", { name: "Totals per day" }).click();
    await expect(admin.getByRole("table")).toBeVisible();
    await expectAccessible(admin);
    await admin.getByRole("button", { name: "Switch to light theme" }).click();
  });
});
