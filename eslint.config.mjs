import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import layout from './scripts/eslint/boundaries.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', '.test-data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
    },
    plugins: { layout },
    rules: {
      'layout/boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-console': 'error',
    },
  },
  {
    files: ['scripts/**', 'test/bench/**', 'test/chaos/**'],
    rules: { 'no-console': 'off' },
  },
);
