import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

export interface Stack {
  appUrl: string;
  httpApiUrl: string;
  wsUrl: string;
  cognitoEndpoint: string;
  controlUrl: string;
  demoUser: { email: string; password: string };
}

export function stack(): Stack {
  const raw = process.env.PARLEY_STACK;
  if (!raw) throw new Error("PARLEY_STACK is not set: the global setup did not run");
  return JSON.parse(raw) as Stack;
}

export interface ScriptedReply {
  text?: string;
  chunks?: string[];
  token_delay?: number;
  status?: number;
  error_message?: string;
  endless?: boolean;
  hang?: number;
}

/** Queues the scripted model's next answers. */
export async function enqueue(...replies: ScriptedReply[]): Promise<void> {
  const response = await fetch(`${stack().controlUrl}/enqueue`, { method: "POST", body: JSON.stringify(replies) });
  expect(response.ok, await response.text()).toBe(true);
}

export async function resetModel(): Promise<void> {
  await fetch(`${stack().controlUrl}/reset`, { method: "POST", body: "null" });
}

/** The signed-in user's id token, as the app keeps it (Cognito's storage in localStorage). */
export async function idToken(page: Page): Promise<string> {
  return page.evaluate(() => {
    const lastUser = Object.keys(localStorage).find((k) => k.endsWith(".LastAuthUser"));
    if (!lastUser) throw new Error("nobody is signed in");
    const prefix = lastUser.replace(/LastAuthUser$/, "");
    return localStorage.getItem(`${prefix}${localStorage.getItem(lastUser)}.idToken`) ?? "";
  });
}

/** The signed-in user's id (the token's `sub`), the key of their items on the server. */
export async function userId(page: Page): Promise<string> {
  const payload = (await idToken(page)).split(".")[1] ?? "";
  return (JSON.parse(Buffer.from(payload, "base64url").toString()) as { sub: string }).sub;
}

export interface ServerConnection {
  id: string;
  /** The token's `exp` stored at `$connect` (epoch seconds). */
  tokenExpiresAt: number | null;
}

/** The user's open WebSocket connections as the server keeps them (the connections table). */
export async function connectionsOf(user: string): Promise<ServerConnection[]> {
  const response = await fetch(`${stack().controlUrl}/connections?user=${encodeURIComponent(user)}`);
  expect(response.ok, await response.clone().text()).toBe(true);
  return ((await response.json()) as { connections: ServerConnection[] }).connections;
}

/** Makes the server see the tokens of the user's open connections as expired; their ids. */
export async function expireConnections(user: string): Promise<string[]> {
  const response = await fetch(`${stack().controlUrl}/connections/expire`, { method: "POST", body: JSON.stringify({ user }) });
  expect(response.ok, await response.clone().text()).toBe(true);
  return ((await response.json()) as { expired: string[] }).expired;
}

/** A fresh address per test, so tests never depend on each other's users. */
export function newUser(name: string) {
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return { name, email: `${name.toLowerCase()}.${id}@example.com`, password: "Parley-test-2026!" };
}

export interface MailboxMessage {
  id: string;
  to: string;
  kind: "verification" | "reset" | "invitation";
  subject: string;
  body: string;
  code: string;
  sentAt: string;
  /** The body as sent when the custom-message trigger wrote it (HTML); `body` is its text. */
  html: string;
}

/** What the local stack's mailbox holds for one address, newest first. */
export async function mailbox(to: string): Promise<MailboxMessage[]> {
  const response = await fetch(`${stack().appUrl}/_local/mailbox.json?to=${encodeURIComponent(to)}`);
  expect(response.ok, await response.clone().text()).toBe(true);
  return ((await response.json()) as { messages: MailboxMessage[] }).messages;
}

/** The newest code of `kind` the local stack e-mailed to `to` (waits for it to arrive). */
export async function mailedCode(to: string, kind: MailboxMessage["kind"] = "verification"): Promise<string> {
  let code = "";
  await expect.poll(async () => (code = (await mailbox(to)).find((m) => m.kind === kind)?.code ?? "")).not.toBe("");
  return code;
}

/** Sign up through the app: create account, confirm with the code from the local mailbox, land signed in. */
export async function signUp(page: Page, user: { name: string; email: string; password: string }) {
  await page.goto(stack().appUrl);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.getByLabel("Name").fill(user.name);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Confirm your email" })).toBeVisible();
  await page.getByLabel("Confirmation code").fill(await mailedCode(user.email));
  await page.getByRole("button", { name: "Confirm" }).click();
  // Confirming runs the post-confirmation and pre-token-generation triggers and signs in: a
  // run's first sign-up starts their execution environments while the other suites share the
  // machine's cores, so it may take longer than an ordinary step (as the socket's first open).
  await expect(page.getByRole("heading", { name: `Welcome, ${user.name}` })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible({ timeout: 30_000 });
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto(stack().appUrl);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible();
}

/** No WCAG 2.1 A/AA violation on the page as it is now. */
export async function expectAccessible(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(summary).toEqual([]);
}

const SCREENSHOTS = resolve(__dirname, "../../docs/screenshots");

/** Saves a screenshot for the README when PARLEY_SCREENSHOTS=1 (`invoke e2e --screenshots`). */
export async function screenshot(page: Page, name: string) {
  if (process.env.PARLEY_SCREENSHOTS !== "1") return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: "disabled", caret: "hide" });
}

export const composer = (page: Page) => page.getByRole("textbox", { name: "Message" }).or(page.getByRole("combobox", { name: "Message" }));
export const lastAssistant = (page: Page) => page.locator("article.message-assistant").last();

/** The 30-second step of a time (ms since the epoch) in TOTP's clock. */
export const totpStep = (at: number = Date.now()) => Math.floor(at / 30_000);

/**
 * The code an authenticator app shows for a base32 secret at one 30-second step (RFC 6238:
 * HMAC-SHA1, 6 digits), computed here from the secret the app displayed, as a phone would.
 */
export function totp(secret: string, step: number = totpStep()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
