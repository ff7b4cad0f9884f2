// What fuzz/run.mjs bundles (esbuild, CommonJS, so that jazzer.js's require hook instruments
// every parser): the targets, the seeds and the built-in engine.
export { TARGETS, target } from './targets/index.js';
export { seedInputs, writeSeeds, corpusInputs, ensureSeedImages, fuzzCacheDir } from './seeds.js';
export { mutationLoop, runOne, quietWarnings, HANG_MS, MEMORY_LIMIT } from './lib/engine.js';
