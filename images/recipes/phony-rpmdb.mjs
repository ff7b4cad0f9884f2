// Real rpm databases in the Berkeley DB hash format, for the inspector's own BDB page reader.
// Debian's rpm 4.18 writes only sqlite (its bdb backend is the read-only bdb_ro; ndb is not
// built), so:
//   1. rpmbuild makes three tiny noarch packages (gk-test3's description is ~30 KiB, so its
//      header is a big item over several overflow pages);
//   2. `rpm -i --justdb` installs them into an sqlite rpmdb (sqlite/rpmdb.sqlite);
//   3. db5.3_load (libdb 5.3, what RHEL 7/8 use) writes their header blobs into hash
//      databases keyed like rpm's Packages (u32 instance numbers, key 0 = next instance):
//        bdb4k/Packages    page size 4096, the 3 packages
//        bdb512/Packages   page size 512, 150 instances (the 3 headers in turn): many buckets,
//                          split buckets with overflow bucket pages, every header a big item
//   4. the oracle: rpm's own reader (`--define '_db_backend bdb_ro' -qa --qf`) lists each
//      database into <dir>/rpm-qa.txt;
//   5. rhel.img: an ext2 root (whole-disk filesystem) of a phony RHEL 8 with
//      /var/lib/rpm/Packages = bdb4k, for the inspector end to end.

import { mkdirSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lib.mjs';
import { PHONY_SAMPLES, PHONY_TIME, stampTree } from '../fixtures/phony-guests.mjs';

export const RPMDB_QF = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SUMMARY}\\t%{URL}\\n';

function spec(n) {
  const desc = n === 3
    ? Array.from({ length: 300 }, (_, i) => `long description line ${i} of the big package, so that its header overflows several Berkeley DB pages.`).join('\n')
    : `Package number ${n} for guestkit's Berkeley DB test.`;
  return [`Name: gk-test${n}`, `Version: 1.${n}`, `Release: ${n}.gk`, `Epoch: ${n - 1}`, `Summary: guestkit test package ${n}`,
    'License: MIT', `URL: https://example.invalid/gk${n}`, 'BuildArch: noarch', '%description', desc, '%files', ''].join('\n');
}

/** A db_load "bytevalue" dump of rpm's Packages: key 0 → next instance, key i → header. */
function packagesDump(blobs, pagesize, count) {
  const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b.toString('hex'); };
  const lines = ['VERSION=3', 'format=bytevalue', 'type=hash', `db_pagesize=${pagesize}`, 'HEADER=END', ` ${u32(0)}`, ` ${u32(count + 1)}`];
  for (let i = 1; i <= count; i++) lines.push(` ${u32(i)}`, ` ${blobs[(i - 1) % blobs.length]}`);
  lines.push('DATA=END', '');
  return lines.join('\n');
}

export default {
  name: 'phony-rpmdb',
  inputs: ['fixtures/phony-guests.mjs'],
  tools: ['rpmbuild', 'rpm', 'db5.3_load', 'sqlite3', 'mke2fs'],
  async build({ out }) {
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(PHONY_TIME), HOME: out };
    const top = join(out, 'rpmbuild');
    mkdirSync(join(top, 'SPECS'), { recursive: true });
    const rpms = [];
    for (const n of [1, 2, 3]) {
      const f = join(top, 'SPECS', `gk${n}.spec`);
      writeFileSync(f, spec(n));
      run('rpmbuild', ['--define', `_topdir ${top}`, '--define', 'use_source_date_epoch_as_buildtime 1', '--define', '_buildhost gk.invalid', '-bb', f], { env });
      rpms.push(join(top, 'RPMS', 'noarch', `gk-test${n}-1.${n}-${n}.gk.noarch.rpm`));
    }
    const sq = join(out, 'sqlite');
    mkdirSync(sq);
    run('rpm', ['--dbpath', sq, '--initdb'], { env });
    run('rpm', ['--dbpath', sq, '-i', '--nodeps', '--justdb', ...rpms], { env });
    const blobs = run('sqlite3', [join(sq, 'rpmdb.sqlite'), 'select lower(hex(blob)) from Packages order by hnum']).trim().split('\n');
    for (const [dir, pagesize, count] of [['bdb4k', 4096, 3], ['bdb512', 512, 150]]) {
      const d = join(out, dir);
      mkdirSync(d);
      writeFileSync(join(out, `${dir}.dump`), packagesDump(blobs, pagesize, count));
      run('db5.3_load', ['-f', join(out, `${dir}.dump`), join(d, 'Packages')]);
      rmSync(join(out, `${dir}.dump`));
      writeFileSync(join(d, 'rpm-qa.txt'), run('rpm', ['--dbpath', d, '--define', '_db_backend bdb_ro', '-qa', '--qf', RPMDB_QF], { env }));
    }
    // rhel.img: whole-disk ext2 root with the BDB rpmdb.
    const root = join(out, 'tree-rhel');
    for (const p of ['etc', 'bin', 'var/lib/rpm', 'usr/lib/rpm']) mkdirSync(join(root, p), { recursive: true });
    writeFileSync(join(root, 'etc/fstab'), '/dev/sda / ext2 defaults 0 0\n');
    writeFileSync(join(root, 'etc/redhat-release'), 'Red Hat Enterprise Linux release 8.6 (Ootpa)\n');
    writeFileSync(join(root, 'etc/hostname'), 'rhel.invalid\n');
    copyFileSync(join(PHONY_SAMPLES, 'binaries', 'bin-x86_64-dynamic'), join(root, 'bin/ls'));
    copyFileSync(join(out, 'bdb4k', 'Packages'), join(root, 'var/lib/rpm/Packages'));
    writeFileSync(join(root, 'usr/lib/rpm/macros'), '%_dbpath /var/lib/rpm\n%_db_backend bdb\n');
    stampTree(root);
    run('mke2fs', ['-q', '-F', '-t', 'ext2', '-b', '4096', '-U', '01234567-0123-0123-0123-012345678910', '-E', 'root_owner=0:0,hash_seed=01234567-0123-0123-0123-012345678910',
      '-d', root, join(out, 'rhel.img'), '8192'], { env: { ...env, E2FSPROGS_FAKE_TIME: String(PHONY_TIME) } });
    rmSync(root, { recursive: true });
    rmSync(top, { recursive: true });
  },
};
