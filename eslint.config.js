// Lint rules: typescript-eslint's recommended set over the TypeScript sources, and the layering walls
// of docs/ARCHITECTURE.md: orchestrator/ and worker/ are two processes that share only shared/; only
// cli/ (the hpo binary's composition root), bench/ and test/ may import both. viewer/ (the web
// dashboard) reads the store through its public face and is imported by cli/ alone.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * An import-restriction rule forbidding relative imports into the given top-level folders, but for the
 * public faces listed per folder (paths inside it, e.g. { orchestrator: ['store/index.js'] }).
 */
function walls(folders, why, publicFaces = {}) {
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: folders.map((folder) => {
          const faces = publicFaces[folder] ?? [];
          const except = faces.length ? `(?!(${faces.map((f) => f.replaceAll('.', '\\.')).join('|')})$)` : '';
          const but = faces.length ? ` but ${faces.map((f) => `${folder}/${f}`).join(', ')}` : '';
          return {
            regex: `^(\\.\\.?/)+(\\.\\./)*${folder}(/${except}|$)`,
            message: `${folder}/ is off limits here${but}: ${why} (docs/ARCHITECTURE.md, "Walls").`,
          };
        }),
      },
    ],
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['shared/**/*.ts'],
    rules: walls(
      ['orchestrator', 'worker', 'cli', 'bench', 'test', 'dashboards', 'viewer'],
      'shared/ is what both processes speak and depends on neither',
    ),
  },
  {
    files: ['orchestrator/**/*.ts'],
    rules: walls(
      ['worker', 'cli', 'bench', 'test', 'dashboards', 'viewer'],
      'the orchestrator process shares code with workers only through shared/',
    ),
  },
  {
    files: ['worker/**/*.ts'],
    rules: walls(
      ['orchestrator', 'cli', 'bench', 'test', 'dashboards', 'viewer'],
      'the worker process shares code with the orchestrator only through shared/',
    ),
  },
  {
    files: ['viewer/**/*.ts'],
    rules: walls(
      ['orchestrator', 'worker', 'cli', 'bench', 'test', 'dashboards'],
      'the web viewer reads the store and the search-space and report helpers, and is no part of the search loop',
      { orchestrator: ['store/index.js', 'search-space/index.js', 'report/index.js'] },
    ),
  },
  {
    files: ['cli/**/*.ts'],
    rules: walls(['bench', 'test'], 'the hpo binary ships without benchmarks and tests'),
  },
  {
    // The web viewer's page: plain browser modules, served as they are (no build step).
    files: ['viewer/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'EventSource',
          'URLSearchParams',
          'CSS',
          'Node',
          'console',
          'echarts',
          'setInterval',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['bin/**/*.js', '.ci/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Examples are plain Node programs a user would write.
    files: ['examples/**/*.js', 'examples/**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' },
    },
  },
  {
    // Functions of the shipped code read top-down in at most 80 lines (issue 26): a longer one is split
    // into named steps. Tests, benchmarks and generators are not held to it.
    files: ['orchestrator/**/*.ts', 'worker/**/*.ts', 'shared/**/*.ts', 'cli/**/*.ts', 'viewer/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80 }] },
  },
  {
    // Emitters of the wasm SIMD module: each writes one function's instructions in order (loops nested
    // as in the wasm), and a split would cut that one instruction stream across functions (issue 26).
    // Keep this block after the one that sets max-lines-per-function: the last match wins.
    files: [
      'worker/backends/wasm/simd-max-pool-grad.ts',
      'worker/backends/wasm/simd-depthwise-filter-grad.ts',
    ],
    rules: { 'max-lines-per-function': 'off' },
  },
);
