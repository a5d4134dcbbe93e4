// The repository's one ESLint config (`npm run lint`): ESLint's recommended rules plus
// typescript-eslint's type-checked recommended set, with type information from each file's
// nearest tsconfig.json (the project service; tooling files outside the packages' `src` fall
// back to the root tsconfig.json). Formatting is Prettier's job (`npm run format`): none of the
// rules below is about layout.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    // Generated or copied files (ESLint reads no .gitignore): builds, caches, the docs site's assets.
    '**/dist/',
    '**/coverage/',
    '.device-check/',
    'tmp/',
    'packages/native/build/',
    'packages/native/prebuilds/',
    'fixtures/',
    'models/',
    'apps/docs/api/',
    'apps/docs/public/',
    'apps/docs/.vitepress/cache/',
    'apps/docs/bundle-check/dist/',
    'apps/docs/test-results/',
  ]),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      // Type-only imports are written `import type` (or `type X` inline), so they vanish from the
      // bundles; `typeof import('node:fs')` stays allowed for lazily loaded Node built-ins.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // `tf.zeros(shape) as tf.Tensor4D` names the rank at the call site, as tfjs' own docs do; the
      // rule would have it written `tf.zeros<tf.Rank.R4>(shape)`, which checks no more.
      '@typescript-eslint/no-unnecessary-type-assertion': [
        'error',
        { typesToIgnore: ['tf.Scalar', 'tf.Tensor1D', 'tf.Tensor2D', 'tf.Tensor3D', 'tf.Tensor4D', 'tf.Tensor5D', 'tf.Tensor6D'] },
      ],
      // An `_` prefix marks a parameter kept for an interface's signature.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // A promise returned from `try` without `await` escapes its `catch` and `finally`.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-deprecated': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Plain JavaScript (CI, consumer and device-check scripts, build helpers): still type-aware
    // (floating and misused promises, awaits of non-promises), but with no annotations every
    // JSON.parse and untyped import is `any`, so the rules that exist to keep `any` from spreading
    // through typed code do not apply.
    files: ['**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // The docs site's demo runs in the browser.
    files: ['apps/docs/demo/**', 'apps/docs/bundle-check/src/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
