// Parse Mermaid files with Mermaid's own parser (in Node, with jsdom for its DOM
// needs): prints "<file> ok <type>" or "<file> FAIL <message>", exits 1 on a failure.
// Run from a folder where `npm install mermaid jsdom` put node_modules (.ci/run).
import { JSDOM } from "jsdom";
import fs from "fs";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = fs.readFileSync(file, "utf8");
  try {
    const r = await mermaid.parse(text);
    console.log(file, "ok", r.diagramType);
  } catch (e) {
    failed = 1;
    console.log(file, "FAIL", String(e.message || e).split("\n").slice(0, 3).join(" | "));
  }
}
process.exit(failed);
