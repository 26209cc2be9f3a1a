// ESLint over src, test, bench and scripts, with typescript-eslint's type-aware rules: a promise
// nobody awaits, a promise handed to a callback that ignores it, and unused code fail the lint.
// Formatting is Prettier's (npm run format), so no style rules here.
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import globals from "globals";
import tseslint from "typescript-eslint";

export default defineConfig(
  { ignores: ["dist/", "dist-*/", "build/", "coverage/", "node_modules/", "src/vendor/", "generated/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      // Steps and fakes implement Promise-returning interfaces with async functions that have
      // nothing to await; an async function that throws still rejects, which is what callers expect.
      "@typescript-eslint/require-await": "off",
      // Values parsed from the tools' JSON and YAML are unknown and turned into text with String()
      // on purpose; the rule cannot tell them from objects printed by mistake.
      "@typescript-eslint/no-base-to-string": "off",
      // The code marks indexed reads with `!` (row[i]!) as if noUncheckedIndexedAccess were on, so
      // they stay correct when it is; the rule would strip about a hundred of them.
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
  {
    // Tests and benchmarks read the tools' JSON output as it comes (any) and check it by asserting,
    // and bench/ is plain JavaScript without types: the no-unsafe family would flag every access.
    files: ["test/**", "bench/**"],
    rules: {
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
    },
  },
);
