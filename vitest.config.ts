import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Examples import 'tfppl' as users do; tests run them against the sources, no build needed.
  // In Node (as here) 'tfppl' is the Node entry, as package.json's "exports" resolve it.
  resolve: {
    alias: [
      { find: /^tfppl(\/node)?$/, replacement: new URL('./src/node.ts', import.meta.url).pathname },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
  },
})
