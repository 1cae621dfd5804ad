// `npm run lint`: typescript-eslint's strict type-checked rules (they see types, so they catch the
// async mistakes a pipeline makes: a promise nobody awaits, a promise where a callback is expected)
// and Prettier for the layout (`npm run format`).
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/**", "node_modules/**", "**/*.generated.ts"] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["eslint.config.js", "bin/berth.js", "bench/cpu-profile.mjs"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // node:test runs test() and describe() itself; awaiting them is not how a test file is written.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }] },
      ],
      // Numbers and booleans print as expected in a message; objects and undefined do not.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowBoolean: true }],
      // `(x) => void f(x)` and `() => promise` shorthands are how callbacks are written here.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true, ignoreVoidOperator: true }],
      // With noUncheckedIndexedAccess every indexed read is optional; `!` marks the reads an
      // invariant guarantees (a key just set, a regexp group that matched). tsc checks the rest.
      "@typescript-eslint/no-non-null-assertion": "off",
      // `_name`: a value that must be taken (a rest sibling, an iteration) but is not used.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Plain JavaScript that an older Node runs before anything else (the Node version check): no
    // types to check, Node's globals.
    files: ["bin/node-check.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", URL: "readonly" } },
  },
);
