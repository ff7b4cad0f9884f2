// The guest view and what builds it: -m mount specs, -i inspection, /etc/fstab.
export * from './view.js';
export * from './fstab.js';
export * from './mount-spec.js';
export * from './inspect-lite.js';
export * from './disks-api.js';
export * from './windows-path.js';
