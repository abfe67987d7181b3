// Parses .tf files with HashiCorp's own HCL parser (@cdktf/hcl2json runs it in WASM).
// Usage: node hcl2json.mjs FILE... → prints {"<file>": {"ok": true, "body": {...}} |
// {"ok": false, "error": "..."}} as one JSON object.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { parse } = require("@cdktf/hcl2json");

const results = {};
for (const file of process.argv.slice(2)) {
  try {
    const body = await parse(file, await readFile(file, "utf8"));
    results[file] = { ok: true, body };
  } catch (error) {
    results[file] = { ok: false, error: String(error && error.message ? error.message : error) };
  }
}
process.stdout.write(JSON.stringify(results));
