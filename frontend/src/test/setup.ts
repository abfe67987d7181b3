import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

// Files share a jsdom (vite.config.ts `isolate: false`): each one starts with nothing stored.
localStorage.clear();
sessionStorage.clear();

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});
