import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { expect, test } from "@playwright/test";

import { composer, lastAssistant } from "./support";

/**
 * Local data survives a restart of the stack (`invoke dev` keeps it in a state directory): a tab
 * left open while the stack stops and starts again is still signed in after a reload, and finds
 * its conversation and its messages. This runs its own stack (`python -m tasks.local.stack`, as
 * `invoke dev` does), on fixed ports so the restarted stack is at the same addresses.
 */
const ROOT = resolve(__dirname, "../..");
const PORT_NAMES = ["port", "http-port", "ws-port", "lambda-port", "moto-port", "model-port"] as const;

interface Ready {
  appUrl: string;
  demoUser: { email: string; password: string };
  data: { restored: boolean };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 60_000;
/** Stacks this file started and has not seen exit: killed after each test, even one that timed out. */
const running = new Set<ChildProcess>();

/** Starts the CLI stack with `args` in its own process group; resolves once its ready file is
 * written, with how long that took. */
async function startStack(args: string[], ready: string): Promise<{ child: ChildProcess; info: Ready }> {
  rmSync(ready, { force: true });
  const python = join(ROOT, ".venv/bin/python");
  const child = spawn(python, ["-m", "tasks.local.stack", "--model", "scripted", "--ready-file", ready, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
  const started = Date.now();
  while (!existsSync(ready)) {
    if (child.exitCode !== null) throw new Error(`the stack exited (${child.exitCode}):\n${output}`);
    if (Date.now() - started > START_TIMEOUT_MS) {
      kill(child);
      throw new Error(`the stack did not start in ${START_TIMEOUT_MS / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  console.log(`restart test: stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { child, info: JSON.parse(readFileSync(ready, "utf8")) as Ready };
}

/** The whole process group, at once: what is left when a stop overran its grace. */
function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
}

/** Ctrl-C, as a developer stops `invoke dev`: the stack saves its data and exits cleanly. A stack
 * that has not exited within the grace is killed, and the answer says so (null). */
async function stopStack(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const started = Date.now();
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  child.kill("SIGINT");
  let timer: NodeJS.Timeout | undefined;
  const overran = new Promise<"overran">((r) => (timer = setTimeout(() => r("overran"), STOP_GRACE_MS)));
  const outcome = await Promise.race([exited, overran]);
  clearTimeout(timer);
  if (outcome === "overran") {
    kill(child);
    await exited;
    console.log(`restart test: the stack did not stop in ${STOP_GRACE_MS / 1000} s and was killed`);
    return null;
  }
  console.log(`restart test: stack stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return outcome;
}

test.describe("local data across a restart", () => {
  test.afterEach(() => running.forEach(kill));

  test("the open tab stays signed in and finds its conversation after the stack restarts", async ({ browser }, testInfo) => {
    test.setTimeout(300_000);
    const work = mkdtempSync(join(tmpdir(), "parley-restart-"));
    const ports = await Promise.all(PORT_NAMES.map(async (name) => [`--${name}`, String(await freePort())]));
    const args = ["--state-dir", join(work, "state"), "--log-dir", join(work, "logs"), ...ports.flat()];
    const ready = join(work, "ready.json");
    let stack = await startStack(args, ready);
    try {
      expect(stack.info.data.restored).toBe(false);
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      // GIVEN a signed-in tab and a conversation with an answer
      await page.goto(stack.info.appUrl);
      await page.getByLabel("Email").fill(stack.info.demoUser.email);
      await page.getByLabel("Password").fill(stack.info.demoUser.password);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      // the stack's first requests start its functions cold
      await expect(page.getByRole("heading", { name: /^Welcome/ })).toBeVisible({ timeout: 30_000 });
      await page.getByRole("button", { name: "New chat" }).click();
      await composer(page).fill("Keep this across a restart");
      await composer(page).press("Enter");
      // the first reply starts bot_worker cold, on a machine the rest of the suite keeps busy
      await expect(lastAssistant(page)).toContainText("scripted assistant", { timeout: 60_000 });
      const appUrl = stack.info.appUrl;

      // WHEN the stack stops (saving its data) and starts again on the same directory
      expect(await stopStack(stack.child)).toBe(0);
      stack = await startStack(args, ready);
      expect(stack.info.data.restored).toBe(true);
      expect(stack.info.appUrl).toBe(appUrl);

      // THEN the reloaded tab is still signed in, live, and its conversation is all there
      await page.reload();
      const nav = page.getByRole("navigation", { name: "Conversations" });
      const kept = nav.getByRole("link", { name: /Keep this across a restart/ });
      await expect(kept).toBeVisible({ timeout: 30_000 });
      await kept.click();
      const log = page.getByRole("log", { name: "Messages" });
      await expect(log.getByText("Keep this across a restart")).toBeVisible();
      await expect(log.getByText(/scripted assistant/)).toBeVisible();
      await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible({ timeout: 30_000 });
      await context.close();
    } catch (error) {
      // The stacks' logs explain a failure: kept with the test's other artifacts.
      if (existsSync(join(work, "logs"))) cpSync(join(work, "logs"), testInfo.outputPath("stack-logs"), { recursive: true });
      throw error;
    } finally {
      await stopStack(stack.child);
      rmSync(work, { recursive: true, force: true });
    }
  });
});
