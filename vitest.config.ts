import { defineConfig } from 'vitest/config';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Unit tests import workspace packages from their TypeScript sources (no build needed);
// CLI tests run bin/guestkit, which needs the build first (scripts/test does it).
const alias: { find: string | RegExp; replacement: string }[] = [];
for (const group of ['packages', 'tools']) {
  for (const d of readdirSync(group)) {
    const pj = join(group, d, 'package.json');
    if (!existsSync(pj)) continue;
    const name = JSON.parse(readFileSync(pj, 'utf8')).name as string;
    const src = resolve(group, d, 'src');
    alias.push({ find: new RegExp(`^${name.replace('/', '\\/')}/(.*)$`), replacement: `${src}/$1.ts` });
    alias.push({ find: new RegExp(`^${name.replace('/', '\\/')}$`), replacement: `${src}/index.ts` });
  }
}

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 900_000,
    pool: 'forks',
    // Synchronous tests run back to back without an event-loop turn; a file of them (xfs.test.ts:
    // 70-140 s of filesystem walks) starved the worker's RPC and vitest reported "Timeout
    // calling onTaskUpdate". The setup file yields before every test.
    setupFiles: ['test/helpers/yield-between-tests.ts'],
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
