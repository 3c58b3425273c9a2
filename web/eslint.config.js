// ESLint (flat config): the recommended JavaScript and typescript-eslint rules, and React's hooks rules.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // Generated (schema.ts: `make contract`) or built files are not linted.
  { ignores: ["dist/**", "node_modules/**", "src/api/schema.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // Build scripts run in Node; the API docs' start-up file runs in the browser beside the Swagger UI bundle.
  { files: ["scripts/**/*.mjs"], languageOptions: { globals: { ...globals.node } } },
  { files: ["public/**/*.js"], languageOptions: { globals: { ...globals.browser, SwaggerUIBundle: "readonly" } } },
);
