// Copies the Swagger UI and ReDoc bundles (npm packages, pinned in package.json) into the built dashboard, so the
// API docs at /docs and /redoc work without internet and under the dashboard's strict CSP (no CDN, no inline script).

import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const web = new URL("../", import.meta.url);
const out = new URL("../src/factorytwin/api/static/api-docs/", web);
const files = [
  ["node_modules/swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["node_modules/swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["node_modules/redoc/bundles/redoc.standalone.js", "redoc.standalone.js"],
];
mkdirSync(fileURLToPath(out), { recursive: true });
for (const [from, to] of files) copyFileSync(fileURLToPath(new URL(from, web)), fileURLToPath(new URL(to, out)));
console.log(`api docs: ${files.length} files -> ${fileURLToPath(out)}`);
