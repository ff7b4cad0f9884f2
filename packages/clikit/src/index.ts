export * from './options.js';
export * from './run.js';
export * from './format.js';
