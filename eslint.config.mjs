// `npm run lint` (with Prettier and knip). Type-aware typescript-eslint: the rules that catch a
// promise nobody waits for, or one passed where a plain value is expected, need the types, and a
// dropped rejection in a provider leaves a tunnel or a firewall rule behind.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", ".scratch/**", ".pulumi/**"] },
  {
    files: ["**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Fire-and-forget is allowed only when written as `void promise`, so it is visibly meant.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      // `const { a, b, ...rest } = o` is how a test says "all but these": the named ones are unused on purpose.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      // An `async` function without `await` is how a runner, a fake runner or a Pulumi program
      // implements a Promise-returning signature: it also turns a synchronous throw into a
      // rejection, which the callers rely on. Dropping `async` to please the rule would change that.
      "@typescript-eslint/require-await": "off",
      // The provider strips and rejects control characters and terminal escapes in text it did not
      // write (ssh banners, hostile inputs), and the tests check that it does: every control
      // character in a regular expression here is the point of it.
      "no-control-regex": "off",
    },
  },
  {
    // Tests read what pulumi, ssh, ufw and jest print (stack exports, outputs, mocks' recorded
    // calls) as untyped JSON; the expect() that follows is the check of its shape, and an
    // interface for each would restate the assertion. Provider code keeps these rules.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // Plain CommonJS files run by node or jest directly (jest config and reporter, the lab's HTTP
    // service): no types to check against.
    files: ["**/*.js"],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", Buffer: "readonly", __dirname: "readonly" },
    },
  },
);
