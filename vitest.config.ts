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
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
