import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

// Import direction (bulletproof-react): app → features → shared (components, lib, config,
// types). A feature never imports another feature; shared code never imports a feature or the
// app. Cross-folder imports go through the `@/` alias so these patterns can see them.
const FEATURES = ["auth", "conversations", "chat", "rooms"];
const RELATIVE_ESCAPE = {
  group: ["../../*", "../../../*"],
  message: "Import across folders through the '@/' alias so import direction can be checked.",
};

const featureRules = FEATURES.map((feature) => ({
  files: [`src/features/${feature}/**/*.{ts,tsx}`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            group: ["@/features/*", `!@/features/${feature}`, `!@/features/${feature}/**`],
            message: "Features never import each other: compose them in src/app.",
          },
          { group: ["@/app", "@/app/*"], message: "Features never import the app." },
          RELATIVE_ESCAPE,
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["dist", "node_modules", "test-results", "playwright-report", "src/types/*.gen.ts"] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    files: ["**/*.{ts,tsx}"],
    languageOptions: { ecmaVersion: 2022, globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  ...featureRules,
  {
    files: ["src/components/**/*.{ts,tsx}", "src/lib/**/*.{ts,tsx}", "src/config/**/*.{ts,tsx}", "src/types/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@/features/*", "@/app", "@/app/*"], message: "Shared code never imports features or the app." },
            RELATIVE_ESCAPE,
          ],
        },
      ],
    },
  },
  {
    files: ["*.config.{ts,js}"],
    languageOptions: { globals: globals.node },
  },
);
