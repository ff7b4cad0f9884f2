// @guestkit/inspect: what operating systems are in a set of disks and what is installed
// (libguestfs's inspection API, natively), with virt-inspector's XML and a JSON form.
export * from './types.js';
export * from './access.js';
export * from './elf.js';
export * from './linux.js';
export * from './windows.js';
export * from './rpm-bdb.js';
export * from './rpm-ndb.js';
export * from './osinfo.js';
export * from './inspect.js';
export * from './xml.js';
export * from './icon.js';
export * from './sqlite.js';
export * from './json.js';
export * from './apps/index.js';
export * from './apps/windows-apps.js';
