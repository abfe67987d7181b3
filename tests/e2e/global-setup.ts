import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Starts the local stack (moto, gateway emulator, scripted model, the built app) once for the
 * whole run and stops it afterwards. PARLEY_E2E_READY_FILE reuses a stack already running
 * (`python -m tests.e2e.stack --ready-file PATH`) to iterate faster.
 */
const ROOT = resolve(__dirname, "../..");
const START_TIMEOUT_MS = 180_000;

export default async function globalSetup(): Promise<() => Promise<void>> {
  const reuse = process.env.PARLEY_E2E_READY_FILE;
  if (reuse) {
    process.env.PARLEY_STACK = readFileSync(reuse, "utf8");
    return async () => undefined;
  }
  if (!existsSync(join(ROOT, "frontend/dist/index.html"))) {
    throw new Error("frontend/dist is missing: run `invoke frontend-build` (or `invoke e2e`)");
  }
  const ready = join(mkdtempSync(join(tmpdir(), "parley-e2e-")), "ready.json");
  const venvPython = join(ROOT, ".venv/bin/python");
  const [command, args] = existsSync(venvPython)
    ? [venvPython, ["-m", "tests.e2e.stack", "--ready-file", ready]]
    : ["uv", ["run", "python", "-m", "tests.e2e.stack", "--ready-file", ready]];
  const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? -1));

  const started = Date.now();
  while (!existsSync(ready)) {
    if (exited !== null) throw new Error(`the local stack exited (${exited}):\n${output.slice(-4000)}`);
    if (Date.now() - started > START_TIMEOUT_MS) {
      process.kill(-child.pid!, "SIGKILL");
      throw new Error(`the local stack did not start in ${START_TIMEOUT_MS / 1000}s:\n${output.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  process.env.PARLEY_STACK = readFileSync(ready, "utf8");
  console.log(`local stack ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);

  return async () => {
    if (exited !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    process.kill(-child.pid!, "SIGTERM");
    const timer = setTimeout(() => exited === null && process.kill(-child.pid!, "SIGKILL"), 20_000);
    await gone;
    clearTimeout(timer);
  };
}
