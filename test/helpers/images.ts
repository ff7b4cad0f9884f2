// Test access to images built by images/build.mjs (and to ../shared/samples).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const IMAGES_OUT = join(ROOT, 'images', 'out');
export const SAMPLES = resolve(ROOT, '..', 'shared', 'samples');
export const GUESTKIT = join(ROOT, 'bin', 'guestkit');

/** Path to images/out/<recipe>, building the recipe first if it is missing. */
export function ensureImage(recipe: string, file?: string): string {
  const dir = join(IMAGES_OUT, recipe);
  if (!existsSync(join(dir, '.complete'))) {
    execFileSync('node', [join(ROOT, 'images', 'build.mjs'), recipe], { stdio: 'inherit' });
  }
  return file ? join(dir, file) : dir;
}

/** Path into ../shared/samples; throws a clear error when the samples are absent. */
export function sample(rel: string): string {
  const p = join(SAMPLES, rel);
  if (!existsSync(p)) {
    throw new Error(`shared sample ${rel} is missing: expected ../shared/samples next to the checkout (see its README)`);
  }
  return p;
}
