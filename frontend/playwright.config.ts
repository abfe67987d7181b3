import { defineConfig } from "@playwright/test";

/**
 * Browser tests (tests/e2e) against the local stack with the scripted model, in Debian's
 * chromium: no browser download. The config lives here so the specs resolve
 * @playwright/test from frontend/node_modules.
 *
 * Halves of the suite run side by side (`--shard`); each writes its artifacts under its own
 * folder (PARLEY_E2E_OUTPUT), since Playwright empties its output folder when it starts.
 */
const output = process.env.PARLEY_E2E_OUTPUT ?? "default";

export default defineConfig({
  testDir: "../tests/e2e",
  outputDir: `./test-results/${output}`,
  globalSetup: "../tests/e2e/global-setup.ts",
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: process.env.CI ? [["list"], ["html", { open: "never", outputFolder: `playwright-report/${output}` }]] : "list",
  use: {
    browserName: "chromium",
    // Recording a trace costs every test about a fifth more CPU, passing or not: a failure is
    // retried on CI with its trace; elsewhere a failure leaves its screenshot and page snapshot,
    // and `npx playwright test --trace on` records traces while investigating one.
    trace: "on-first-retry",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Without the background-networking flags chromium dials out at start-up, which a closed
      // network answers with refused connections.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
