export * from './options.js';
export * from './run.js';
export * from './format.js';
export * from './guest.js';
export * from './libvirt.js';
export * from './virt-format.js';
