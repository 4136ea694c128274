// Lint runs in `npm test` (pretest) so CI catches it. Domain code may not use `any`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // One way into the cluster (DESIGN.md): only src/cluster talks to the Kubernetes client.
    files: ['src/**/*.ts'],
    ignores: ['src/cluster/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@kubernetes/client-node', message: 'use a Cluster or a Source from src/cluster' }] }] },
  },
  {
    files: ['**/*.mjs', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
