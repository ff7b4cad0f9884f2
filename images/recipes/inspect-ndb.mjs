// inspect-ndb: real rpm ndb `Packages.db` databases, written by rpm 4.18's own ndb backend
// (rebuilt with --enable-ndb by inspect-ndb-rpm.mjs, as Debian's rpm lacks it), for the
// inspector's ndb reader (packages/inspect/src/rpm-ndb.ts):
//   opensuse.img        an openSUSE Tumbleweed root laid out as an installed one: rpmbuild
//                       packages (openSUSE-release with /usr/lib/os-release, filesystem, coreutils
//                       with an ELF /usr/bin/ls, rpm with the guest's macros `%_dbpath
//                       /usr/lib/sysimage/rpm` and `%_db_backend ndb` plus the /var/lib/rpm ->
//                       ../../usr/lib/sysimage/rpm link, a package with an epoch and a long
//                       description, one with XML special characters) installed by `rpm --root
//                       DIR -i` after gk-erased (on its own: its blob comes first in the file);
//                       then `rpm -e gk-erased` (its slot freed and, as the hole is in the first
//                       half of the file, the last blobs moved into it: rpmpkgDelInternal) and
//                       `rpm -i gk-late` (into the freed slot). ext4 on an MBR disk, fixed UUIDs
//                       and times.
//   rpm-qa.txt          the oracle for that root: `rpm -qa --qf RPMDB_QF` by the ndb rpm
//   fresh/Packages.db   the database before the erase, fresh/rpm-qa.txt its oracle
//   many/Packages.db    300 packages (one spec, 299 subpackages, `--justdb`): two slot pages; then
//                       every seventh erased; many/rpm-qa.txt its oracle
// rpm runs under a frozen clock (libfaketime), so the install times in the headers, and with them
// every database, are the same on every build.

import { mkdirSync, writeFileSync, rmSync, copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { PHONY_SAMPLES, PHONY_TIME, stampTree } from '../fixtures/phony-guests.mjs';
import { mkext, phonyDisk } from '../fixtures/phony-guests-disk.mjs';
import { rpmbuildAll } from '../fixtures/rpm-packages.mjs';
import { RPMDB_QF } from './phony-rpmdb.mjs';
import { ndbRpmEnv } from './inspect-ndb-rpm.mjs';

export const OPENSUSE_NDB_UUID = '05e000db-0000-4000-8000-000000000001';
export const NDB_DBPATH = '/usr/lib/sysimage/rpm';
/** libfaketime's frozen clock for every rpm run (absolute: the clock does not move). */
const FROZEN = '2024-03-01 12:00:00';

const OS_RELEASE = [
  'NAME="openSUSE Tumbleweed"', '# VERSION="20240301"', 'ID="opensuse-tumbleweed"', 'ID_LIKE="opensuse suse"', 'VERSION_ID="20240301"',
  'PRETTY_NAME="openSUSE Tumbleweed"', 'ANSI_COLOR="0;32"', 'CPE_NAME="cpe:/o:opensuse:tumbleweed:20240301"',
  'BUG_REPORT_URL="https://bugzilla.opensuse.org"', 'SUPPORT_URL="https://bugs.opensuse.org"', 'HOME_URL="https://www.opensuse.org"',
  'DOCUMENTATION_URL="https://en.opensuse.org/Portal:Tumbleweed"', 'LOGO="distributor-logo-Tumbleweed"',
];

const readme = (name, text) => ({
  install: [`mkdir -p %{buildroot}/usr/share/${name}`, `echo ${text} > %{buildroot}/usr/share/${name}/README`],
  files: [`/usr/share/${name}/README`],
});

/** name → spec fields (fixtures/rpm-packages.mjs rpmSpec): installed in one transaction. */
const PACKAGES = {
  'openSUSE-release': {
    version: '20240301', release: '2699.1', arch: 'x86_64', summary: 'openSUSE Tumbleweed', url: 'https://www.opensuse.org/',
    description: 'openSUSE is a free and Linux-based operating system for your PC, Laptop or Server.',
    install: ['mkdir -p %{buildroot}/etc %{buildroot}/usr/lib', `printf '%s\\n' ${OS_RELEASE.map((l) => `'${l}'`).join(' ')} > %{buildroot}/usr/lib/os-release`,
      'ln -s ../usr/lib/os-release %{buildroot}/etc/os-release'],
    files: ['/usr/lib/os-release', '/etc/os-release'],
  },
  filesystem: {
    version: '84.87', release: '15.1', arch: 'x86_64', summary: 'Basic Directory Layout', url: 'https://github.com/openSUSE/filesystem',
    description: 'This package installs the basic directory structure.',
    install: ['mkdir -p %{buildroot}/etc %{buildroot}/var/lib %{buildroot}/usr/bin %{buildroot}/home %{buildroot}/boot', 'ln -s usr/bin %{buildroot}/bin'],
    files: ['%dir /etc', '%dir /var/lib', '%dir /usr/bin', '%dir /home', '%dir /boot', '/bin'],
  },
  coreutils: {
    version: '9.4', release: '6.1', arch: 'x86_64', summary: 'GNU Core Utilities', url: 'https://www.gnu.org/software/coreutils/',
    description: 'Basic file, shell, and text manipulation utilities.',
    install: ['mkdir -p %{buildroot}/usr/bin', `cp ${join(PHONY_SAMPLES, 'binaries', 'bin-x86_64-dynamic')} %{buildroot}/usr/bin/ls`],
    files: ['/usr/bin/ls'],
  },
  rpm: {
    version: '4.19.1.1', release: '5.1', arch: 'x86_64', summary: 'The RPM Package Manager', url: 'https://rpm.org/',
    description: 'RPM Package Manager is the main tool for managing the software packages of the SUSE Linux distribution.',
    install: ['mkdir -p %{buildroot}/usr/lib/rpm %{buildroot}/usr/lib/sysimage/rpm %{buildroot}/var/lib',
      `echo '%%_dbpath ${NDB_DBPATH}' > %{buildroot}/usr/lib/rpm/macros`, "echo '%%_db_backend ndb' >> %{buildroot}/usr/lib/rpm/macros",
      'touch %{buildroot}/usr/lib/rpm/rpmrc', 'ln -s ../../usr/lib/sysimage/rpm %{buildroot}/var/lib/rpm'],
    files: ['/usr/lib/rpm/macros', '/usr/lib/rpm/rpmrc', '%dir /usr/lib/sysimage/rpm', '/var/lib/rpm'],
  },
  'gk-epoch': {
    version: '2.0.1', release: '1.1', arch: 'noarch', epoch: 3, summary: 'A package with an epoch', url: 'https://example.invalid/gk-epoch',
    description: Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of a long description.`).join('\n'),
    ...readme('gk-epoch', 'epoch'),
  },
  'gk-xml': {
    version: '1.0', release: '1.1', arch: 'noarch', summary: 'Summary with <xml> & "quotes"', url: 'https://example.invalid/?a=1&b=2',
    description: 'Description with <tags> & ampersands.',
    ...readme('gk-xml', 'xml'),
  },
};

/** Installed first, on its own (its blob is the first in the file), and erased again. */
const ERASED = {
  'gk-erased': {
    version: '1.0', release: '1.1', arch: 'noarch', summary: 'A package that is erased again', url: 'https://example.invalid/gk-erased',
    description: Array.from({ length: 60 }, (_, i) => `Erased line ${i + 1}: its blob leaves a hole in the blob area.`).join('\n'),
    ...readme('gk-erased', 'erased'),
  },
};

/** Installed after gk-erased is erased. */
const LATE = {
  'gk-late': {
    version: '0.9', release: '2.1', arch: 'noarch', summary: 'Installed after an erase', url: 'https://example.invalid/gk-late',
    description: 'Takes the slot gk-erased freed.', ...readme('gk-late', 'late'),
  },
};

/** One spec, 300 packages: the main one and 299 subpackages with no files. */
const MANY = {
  'gk-many': {
    version: '1', release: '1.1', arch: 'noarch', summary: 'Many packages 000', url: 'https://example.invalid/gk-many',
    description: 'Package 000 of 300.', install: [], files: [],
    sub: Array.from({ length: 299 }, (_, i) => {
      const n = String(i + 1).padStart(3, '0');
      return { name: `gk-many-${n}`, summary: `Many packages ${n}`, description: `Package ${n} of 300.${'\nPadding line.'.repeat(i % 5)}` };
    }),
  },
};

export default {
  name: 'inspect-ndb',
  deps: ['inspect-ndb-rpm'],
  inputs: ['fixtures/phony-guests.mjs', 'fixtures/phony-guests-disk.mjs', 'fixtures/rpm-packages.mjs', 'recipes/phony-rpmdb.mjs'],
  tools: ['rpmbuild', 'faketime', 'mke2fs', 'sfdisk'],
  async build({ out, dep }) {
    const ndb = dep('inspect-ndb-rpm');
    const lib = run('bash', ['-c', 'ls /usr/lib/*/faketime/libfaketime.so.1 | head -1']).trim();
    const env = ndbRpmEnv(ndb, { ...process.env, HOME: out, LD_PRELOAD: lib, FAKETIME: FROZEN, TZ: 'UTC' });
    const rpm = (root, args) => run(join(ndb, 'bin', 'rpm'), ['--root', root, '--dbpath', NDB_DBPATH, '--define', '_db_backend ndb', ...args], { env });
    const initdb = (root) => run(join(ndb, 'bin', 'rpmdb'), ['--root', root, '--dbpath', NDB_DBPATH, '--define', '_db_backend ndb', '--initdb'], { env });
    const qa = (root, file) => writeFileSync(file, rpm(root, ['-qa', '--qf', RPMDB_QF]));
    const top = join(out, 'rpmbuild');

    // The openSUSE root.
    const rpms = rpmbuildAll(join(top, 'main'), PACKAGES, PHONY_TIME).sort();
    const erased = rpmbuildAll(join(top, 'erased'), ERASED, PHONY_TIME);
    const late = rpmbuildAll(join(top, 'late'), LATE, PHONY_TIME);
    const root = join(out, 'root');
    mkdirSync(root);
    initdb(root);
    rpm(root, ['-i', '--nodeps', ...erased]);
    rpm(root, ['-i', '--nodeps', '--ignorearch', ...rpms]);
    mkdirSync(join(out, 'fresh'));
    copyFileSync(join(root, NDB_DBPATH, 'Packages.db'), join(out, 'fresh', 'Packages.db'));
    qa(root, join(out, 'fresh', 'rpm-qa.txt'));
    rpm(root, ['-e', '--nodeps', 'gk-erased']);
    rpm(root, ['-i', '--nodeps', ...late]);
    qa(root, join(out, 'rpm-qa.txt'));
    writeFileSync(join(root, 'etc/fstab'), `UUID=${OPENSUSE_NDB_UUID} / ext4 defaults 1 1\n`);
    writeFileSync(join(root, 'etc/hostname'), 'opensuse-ndb.invalid\n');
    rmSync(join(root, NDB_DBPATH, '.rpm.lock'), { force: true });
    writeFileSync(join(out, 'rpmdb-files.txt'), readdirSync(join(root, NDB_DBPATH)).sort().join('\n') + '\n');
    copyFileSync(join(root, NDB_DBPATH, 'Packages.db'), join(out, 'Packages.db'));
    stampTree(root);
    const part = { start: 2048, end: 64 * 2048 - 1, type: '83' };
    part.image = mkext(join(out, 'root.ext4'), { type: 'ext4', label: 'opensuse', uuid: OPENSUSE_NDB_UUID, tree: root, sectors: part.end - part.start + 1 });
    phonyDisk(join(out, 'opensuse.img'), { label: 'dos', sizeMiB: 65, parts: [part], extra: ['label-id: 0x05e00db1'] });
    rmSync(root, { recursive: true });

    // 300 packages, database only: more than one slot page (254 slots in the first).
    const many = rpmbuildAll(join(top, 'many'), MANY, PHONY_TIME).sort();
    const mroot = join(out, 'many-root');
    mkdirSync(mroot);
    initdb(mroot);
    rpm(mroot, ['-i', '--justdb', '--nodeps', '--ignorearch', ...many]);
    const erase = many.map((f) => f.split('/').pop().replace(/-1-1\.1\.noarch\.rpm$/, '')).filter((n, i) => i % 7 === 3);
    rpm(mroot, ['-e', '--justdb', '--nodeps', ...erase]);
    mkdirSync(join(out, 'many'));
    copyFileSync(join(mroot, NDB_DBPATH, 'Packages.db'), join(out, 'many', 'Packages.db'));
    qa(mroot, join(out, 'many', 'rpm-qa.txt'));
    rmSync(mroot, { recursive: true });
    rmSync(top, { recursive: true });
  },
};
