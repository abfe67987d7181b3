import { expect, test, type Page } from "@playwright/test";

import { expectAccessible, idToken, stack } from "./support";

/**
 * Federated sign-in in the browser: "Sign in with Local OIDC" on the sign-in page, the stand-in
 * provider's page (oidc-provider-mock), the stand-in of Cognito's hosted endpoints, and back in
 * the app signed in — the app's own PKCE, state and nonce checks on the way. Sign-out ends the
 * hosted session too (`/logout`) and comes back to the sign-in page.
 */

interface FederatedStack {
  federation: { hostedUrl: string; identityProviderUrl: string; provider: { name: string; label: string } };
}

const federation = () => (stack() as unknown as FederatedStack).federation;

function newAddress(): string {
  return `fed-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

async function startAtProvider(page: Page): Promise<void> {
  await page.goto(stack().appUrl);
  await page.getByRole("button", { name: `Sign in with ${federation().provider.label}` }).click();
  await page.waitForURL((url) => url.href.startsWith(federation().identityProviderUrl));
}

test("sign in with the identity provider, use the app, sign out of the hosted session too", async ({ page }) => {
  const email = newAddress();
  await page.goto(stack().appUrl);
  const group = page.getByRole("group", { name: "Sign in with an identity provider" });
  await expect(group.getByRole("button", { name: "Sign in with Local OIDC" })).toBeVisible();
  await expectAccessible(page);

  // Keyboard only: the provider's button is reached and pressed like any other.
  await group.getByRole("button", { name: "Sign in with Local OIDC" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForURL((url) => url.href.startsWith(federation().identityProviderUrl));
  const authorize = new URL(page.url());
  expect(authorize.searchParams.get("redirect_uri")).toBe(`${federation().hostedUrl}/oauth2/idpresponse`);

  await page.getByLabel("Subject").fill(email);
  await page.getByRole("button", { name: "Authorize", exact: true }).click();

  // Back in the app at its root, the answer taken out of the address bar, signed in (the first
  // test of its half: the profile and the list may wait for the functions' cold start).
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible({ timeout: 30_000 });
  expect(new URL(page.url()).search).toBe("");
  const stored = await page.evaluate(() => ({ pending: sessionStorage.getItem("parley.oauth.pending"), federated: localStorage.getItem("parley.oauth.federated") }));
  expect(stored).toEqual({ pending: null, federated: "1" });

  // A request of the app's own, and one with its token: the API accepts it and knows the profile.
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible({ timeout: 30_000 });
  const me = await fetch(`${stack().httpApiUrl}/me`, { headers: { Authorization: `Bearer ${await idToken(page)}` } });
  expect(me.status).toBe(200);
  expect(((await me.json()) as { email: string }).email).toBe(email);

  // Sign out: through the hosted /logout, back to the sign-in page, no session left.
  const logout = page.waitForRequest((request) => request.url().startsWith(`${federation().hostedUrl}/logout?`));
  await page.getByRole("button", { name: "Sign out" }).click();
  const logoutUrl = new URL((await logout).url());
  expect(logoutUrl.searchParams.get("logout_uri")).toBe(`${stack().appUrl}/`);
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("CognitoIdentityServiceProvider.") || k.startsWith("parley.oauth")))).toEqual([]);
});

test("a sign-in refused at the provider is explained on the sign-in page", async ({ page }) => {
  await startAtProvider(page);
  await page.getByRole("button", { name: "Deny access" }).click();
  await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
  await expect(page.getByRole("alert")).toHaveText(/Sign-in was cancelled, or the identity provider refused it/);
  expect(new URL(page.url()).search).toBe("");
  await expectAccessible(page);
});

test("an answer that does not belong to this tab's sign-in is refused", async ({ page }) => {
  await startAtProvider(page);
  // A forged answer (someone else's code, or a link sent to the person) instead of the provider's.
  await page.goto(`${stack().appUrl}/?code=stolen&state=forged`);
  await expect(page.getByRole("alert")).toHaveText(/does not belong to the sign-in started here/);
  // The attempt is gone: the real answer cannot be used after it either.
  expect(await page.evaluate(() => sessionStorage.getItem("parley.oauth.pending"))).toBeNull();
});

test("the provider's button at phone width in the dark theme", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, colorScheme: "dark" });
  const page = await context.newPage();
  await page.goto(stack().appUrl);
  const button = page.getByRole("button", { name: "Sign in with Local OIDC" });
  await expect(button).toBeVisible();
  const box = await button.boundingBox();
  expect(box && box.x >= 0 && box.x + box.width <= 375).toBe(true);
  await expectAccessible(page);
  await context.close();
});
