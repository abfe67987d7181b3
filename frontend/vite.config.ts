/// <reference types="vitest/config" />
import { fileURLToPath, URL } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// One build serves every environment: nothing environment-specific is baked in here; the app
// reads /config.json at start-up (see src/config).
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  // amazon-cognito-identity-js still refers to Node's `global`.
  define: { global: "globalThis" },
  build: { target: "es2022", sourcemap: true, chunkSizeWarningLimit: 400 },
  // `npm run dev` beside `invoke dev`: the running local stack (fixed port 8080) serves the
  // runtime config, and its APIs allow this dev server's origin.
  server: { proxy: { "/config.json": process.env.PARLEY_STACK_URL ?? "http://127.0.0.1:8080" } },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    // One jsdom per worker for all its files, not one per file: setting jsdom up was most of the
    // run's CPU. src/test/setup.ts gives each file fresh storage, real timers and real globals.
    isolate: false,
    // A guard against a hung test, not a speed target: the suite runs beside pytest on busy cores.
    testTimeout: 30_000,
  },
});
