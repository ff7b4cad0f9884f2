// @guestkit/registry: Windows registry hives (regf) — reader, transaction log replay, writer,
// and the .reg text format as hivexregedit/virt-win-reg write and read it.
export * from './limits.js';
export * from './names.js';
export * from './base-block.js';
export * from './hbin.js';
export * from './cell.js';
export * from './nk.js';
export * from './vk.js';
export * from './sk.js';
export * from './subkey-lists.js';
export * from './big-data.js';
export * from './value-types.js';
export * from './transaction-log.js';
export * from './hive.js';
export * from './reg-text.js';
export * from './guest-hives.js';
export * from './writer.js';
export * from './view-files.js';
