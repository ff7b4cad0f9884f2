// guest-fedora-rpm: an rpm-based root made by Debian's rpm the way an installer makes one:
// rpmbuild builds six small packages from the spec files below (a release package with
// /etc/os-release of a Fedora 40, a filesystem package, an x86_64 package holding an ELF
// /usr/bin/ls, rpm's configuration (/usr/lib/rpm/macros: libguestfs's appliance reads the
// database with the guest's %_dbpath), a package with an epoch, a URL and a long description, and one whose summary
// holds XML special characters), then `rpm --root DIR --initdb` and `rpm --root DIR -i --nodeps`
// install them, files and database, into the folder. Debian's rpm 4.18 writes only the sqlite
// backend (`--define '_db_backend bdb'` / `ndb` fall back to a dummy database: "installs not
// possible"), so the database is /var/lib/rpm/rpmdb.sqlite; the Berkeley DB reader is tested on
// databases written by libdb itself (phony-rpmdb.mjs), the ndb one on databases written by rpm
// rebuilt with its ndb backend (inspect-ndb.mjs). The root becomes an ext4 partition of an
// MBR disk (fixed UUIDs and times; rpm's install times live only in the database, not in what
// virt-inspector prints, so the XML golden is stable).
//   fedora-rpm.img     the disk
//   rpm-qa.txt         the oracle: `rpm --root DIR -qa --qf RPMDB_QF` on the installed root
//   rpmdb-files.txt    /var/lib/rpm's files and sizes as rpm left them

import { mkdirSync, writeFileSync, rmSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { PHONY_SAMPLES, PHONY_TIME, stampTree } from '../fixtures/phony-guests.mjs';
import { mkext, phonyDisk } from '../fixtures/phony-guests-disk.mjs';
import { RPMDB_QF } from './phony-rpmdb.mjs';
import { rpmbuildAll } from '../fixtures/rpm-packages.mjs';

export const FEDORA_RPM_UUID = '0fed0040-0123-4567-89ab-000000000001';

/** name → spec fields (fixtures/rpm-packages.mjs rpmSpec). */
const PACKAGES = {
  'fedora-release': {
    version: '40', release: '39', arch: 'noarch', summary: 'Fedora release files', url: 'https://fedoraproject.org/',
    description: 'Fedora release files such as various /etc/ files that define the release.',
    install: [
      'mkdir -p %{buildroot}/etc %{buildroot}/usr/lib',
      `printf '%s\\n' 'NAME="Fedora Linux"' 'VERSION="40 (Container Image)"' 'ID=fedora' 'VERSION_ID=40' 'PRETTY_NAME="Fedora Linux 40 (Container Image)"' 'CPE_NAME="cpe:/o:fedoraproject:fedora:40"' > %{buildroot}/usr/lib/os-release`,
      'ln -s ../usr/lib/os-release %{buildroot}/etc/os-release',
      "echo 'Fedora release 40 (Forty)' > %{buildroot}/etc/fedora-release",
      'ln -s fedora-release %{buildroot}/etc/redhat-release',
    ],
    files: ['/usr/lib/os-release', '/etc/os-release', '/etc/fedora-release', '/etc/redhat-release'],
  },
  filesystem: {
    version: '3.18', release: '8.fc40', arch: 'noarch', summary: 'The basic directory layout for a Linux system', url: 'https://pagure.io/filesystem',
    description: 'The filesystem package is one of the basic packages that is installed\non a Linux system.',
    install: ['mkdir -p %{buildroot}/etc %{buildroot}/var/lib %{buildroot}/usr/bin %{buildroot}/home %{buildroot}/boot', 'ln -s usr/bin %{buildroot}/bin'],
    files: ['%dir /etc', '%dir /var/lib', '%dir /usr/bin', '%dir /home', '%dir /boot', '/bin'],
  },
  coreutils: {
    version: '9.4', release: '6.fc40', arch: 'x86_64', summary: 'A set of basic GNU tools commonly used in shell scripts', url: 'https://www.gnu.org/software/coreutils/',
    description: 'These are the GNU core utilities.',
    install: ['mkdir -p %{buildroot}/usr/bin', `cp ${join(PHONY_SAMPLES, 'binaries', 'bin-x86_64-dynamic')} %{buildroot}/usr/bin/ls`],
    files: ['/usr/bin/ls'],
  },
  rpm: {
    version: '4.19.1.1', release: '1.fc40', arch: 'x86_64', summary: 'The RPM package management system', url: 'https://rpm.org/',
    description: 'The RPM Package Manager (RPM) is a powerful package management system.',
    install: ['mkdir -p %{buildroot}/usr/lib/rpm', "echo '%%_dbpath /var/lib/rpm' > %{buildroot}/usr/lib/rpm/macros",
      "echo '%%_db_backend sqlite' >> %{buildroot}/usr/lib/rpm/macros", 'touch %{buildroot}/usr/lib/rpm/rpmrc'],
    files: ['/usr/lib/rpm/macros', '/usr/lib/rpm/rpmrc'],
  },
  'gk-epoch': {
    version: '2.0.1', release: '1.fc40', arch: 'noarch', epoch: 3, summary: 'A package with an epoch', url: 'https://example.invalid/gk-epoch',
    description: Array.from({ length: 40 }, (_, i) => `Line ${i + 1} of a long description.`).join('\n'),
    install: ['mkdir -p %{buildroot}/usr/share/gk-epoch', 'echo epoch > %{buildroot}/usr/share/gk-epoch/README'],
    files: ['/usr/share/gk-epoch/README'],
  },
  'gk-xml': {
    version: '1.0', release: '1.fc40', arch: 'noarch', summary: 'Summary with <xml> & "quotes"', url: 'https://example.invalid/?a=1&b=2',
    description: 'Description with <tags> & ampersands.',
    install: ['mkdir -p %{buildroot}/usr/share/gk-xml', 'echo xml > %{buildroot}/usr/share/gk-xml/README'],
    files: ['/usr/share/gk-xml/README'],
  },
};

export default {
  name: 'guest-fedora-rpm',
  inputs: ['fixtures/phony-guests.mjs', 'fixtures/phony-guests-disk.mjs', 'fixtures/rpm-packages.mjs', 'recipes/phony-rpmdb.mjs'],
  tools: ['rpmbuild', 'rpm', 'mke2fs', 'sfdisk'],
  async build({ out }) {
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(PHONY_TIME), HOME: out };
    const top = join(out, 'rpmbuild');
    const rpms = rpmbuildAll(top, PACKAGES, PHONY_TIME);
    const root = join(out, 'root');
    mkdirSync(root);
    const R = ['--root', root, '--dbpath', '/var/lib/rpm', '--define', '_db_backend sqlite'];
    run('rpm', [...R, '--initdb'], { env });
    run('rpm', [...R, '-i', '--nodeps', '--ignorearch', ...rpms], { env });
    writeFileSync(join(out, 'rpm-qa.txt'), run('rpm', [...R, '-qa', '--qf', RPMDB_QF], { env }));
    // What an installed system has beyond its packages: fstab, hostname, rpm's macros.
    writeFileSync(join(root, 'etc/fstab'), `UUID=${FEDORA_RPM_UUID} / ext4 defaults 1 1\n`);
    writeFileSync(join(root, 'etc/hostname'), 'fedora-rpm.invalid\n');
    // rpm leaves its database in WAL mode with rpmdb.sqlite-shm and an empty rpmdb.sqlite-wal
    // beside it (as on an installed Fedora): kept, since SQLite cannot open a WAL database on a
    // read-only filesystem without them (libguestfs's appliance reads it so).
    writeFileSync(join(out, 'rpmdb-files.txt'), readdirSync(join(root, 'var/lib/rpm')).map((f) => `${f}\t${statSync(join(root, 'var/lib/rpm', f)).size}`).sort().join('\n') + '\n');
    stampTree(root);
    const part = { start: 2048, end: 64 * 2048 - 1, type: '83' };
    part.image = mkext(join(out, 'root.ext4'), { type: 'ext4', label: 'fedora', uuid: FEDORA_RPM_UUID, tree: root, sectors: part.end - part.start + 1 });
    phonyDisk(join(out, 'fedora-rpm.img'), { label: 'dos', sizeMiB: 65, parts: [part], extra: ['label-id: 0x0fed0040'] });
    rmSync(root, { recursive: true });
    rmSync(top, { recursive: true });
  },
};
