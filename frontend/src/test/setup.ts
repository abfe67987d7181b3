import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";

// Files share a jsdom (vite.config.ts `isolate: false`): each one starts with nothing stored.
// (A file on Node's own environment has no storage.)
if (typeof window !== "undefined") {
  window.localStorage.clear();
  window.sessionStorage.clear();
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});
