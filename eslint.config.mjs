import tseslint from "typescript-eslint";

export default tseslint.config({ ignores: ["node_modules/", "dist/", ".pulumi-state/"] }, ...tseslint.configs.recommended, {
  rules: {
    "@typescript-eslint/no-require-imports": "off",
    "@typescript-eslint/no-non-null-assertion": "off",
  },
});
