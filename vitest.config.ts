import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Examples import 'tfppl' as users do; tests run them against the sources, no build needed.
  resolve: { alias: { tfppl: new URL('./src/index.ts', import.meta.url).pathname } },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
})
