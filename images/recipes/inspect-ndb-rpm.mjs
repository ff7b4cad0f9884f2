// inspect-ndb-rpm: rpm 4.18 with its ndb backend, to write real ndb `Packages.db` databases
// (openSUSE Tumbleweed, SLES 15 SP3+) for the inspector's tests (inspect-ndb.mjs). Debian's rpm
// is built without ndb (`rpm --showrc`: "available backends: sqlite bdb_ro dummy"), so this
// recipe rebuilds it from Debian's own source package of the installed rpm version
// (`apt-get source`: needs a deb-src line, which scripts/system-deps adds) with `--enable-ndb`.
// Only upstream's sources from the .orig tarball are built: Debian's patches change
// configure.ac (lua library name, --with-debian) and would need autoreconf; none touches the
// database code. The build is kept small (no python, plugins, docs, nls, libelf, zstd,
// libarchive, selinux, audit): static librpm/librpmio, then only the `rpm` and `rpmdb`
// programs and rpm's generated configuration (macros, rpmrc, rpmpopt). About 65 s CPU (configure
// 14 s, make 50 s); 220 s wall on 2 busy cores.
//   bin/rpm, bin/rpmdb   run them with ndbRpmEnv(dir): RPM_CONFIGDIR points at lib/rpm
//   lib/rpm/             macros, rpmrc, rpmpopt-VERSION
//   showrc.txt           `rpm --showrc`'s BACKEND lines (sqlite ndb dummy)

import { mkdirSync, readdirSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sh } from '../lib.mjs';

/** Environment that makes bin/rpm and bin/rpmdb of this recipe's output find their configuration. */
export function ndbRpmEnv(dir, env = process.env) {
  return { ...env, RPM_CONFIGDIR: join(dir, 'lib', 'rpm') };
}

const CONFIGURE = [
  '--enable-ndb', '--disable-shared', '--enable-static', '--disable-python', '--disable-plugins', '--disable-inhibit-plugin',
  '--disable-nls', '--disable-openmp', '--disable-libelf', '--disable-zstd', '--without-archive', '--without-selinux',
  '--without-cap', '--without-acl', '--without-audit', '--without-fsverity', '--without-readline', '--with-crypto=libgcrypt',
];

export default {
  name: 'inspect-ndb-rpm',
  tools: ['rpm', 'gcc', 'apt-get'],
  async build({ out }) {
    const src = join(out, 'src');
    mkdirSync(src);
    const version = run('dpkg-query', ['-W', '-f=${Version}', 'rpm']).trim();
    try {
      run('apt-get', ['source', '--download-only', '-qq', `rpm=${version}`], { cwd: src });
    } catch (e) {
      throw new Error(`apt-get source rpm=${version} failed (is there a deb-src line? scripts/system-deps adds one): ${e.message}`);
    }
    const orig = readdirSync(src).find((f) => /^rpm_.*\.orig\.tar\.[a-z]+$/.test(f));
    if (!orig) throw new Error(`no .orig tarball in the rpm source package: ${readdirSync(src).join(' ')}`);
    run('tar', ['-C', src, '-xf', join(src, orig)]);
    const tree = join(src, readdirSync(src).find((f) => f.startsWith('rpm-')));
    const lua = run('pkg-config', ['--cflags', '--libs', 'lua5.3']).trim();
    const luaCflags = run('pkg-config', ['--cflags', 'lua5.3']).trim();
    run('./configure', ['-q', '--prefix=/opt/guestkit-ndb-rpm', ...CONFIGURE, `LUA_CFLAGS=${luaCflags}`, `LUA_LIBS=${lua}`], { cwd: tree });
    const rpmpopt = `rpmpopt-${sh("sed -n 's/^PACKAGE_VERSION = //p' Makefile", { cwd: tree }).trim()}`;
    for (const dir of ['misc', 'rpmio', 'lib']) run('make', ['-s', '-j2', '-C', dir], { cwd: tree });
    run('make', ['-s', '-j2', 'rpm', 'rpmdb', 'macros', 'rpmrc', rpmpopt], { cwd: tree });
    mkdirSync(join(out, 'bin'));
    mkdirSync(join(out, 'lib', 'rpm'), { recursive: true });
    for (const p of ['rpm', 'rpmdb']) copyFileSync(join(tree, p), join(out, 'bin', p));
    run('chmod', ['755', join(out, 'bin', 'rpm'), join(out, 'bin', 'rpmdb')]);
    for (const f of ['macros', 'rpmrc', rpmpopt]) copyFileSync(join(tree, f), join(out, 'lib', 'rpm', f));
    rmSync(src, { recursive: true, force: true });
    const showrc = run(join(out, 'bin', 'rpm'), ['--showrc'], { env: ndbRpmEnv(out) });
    const backends = showrc.split('\n').filter((l) => /backend/.test(l)).join('\n');
    if (!/available backends\s*:.*\bndb\b/.test(backends)) throw new Error(`the rebuilt rpm has no ndb backend: ${backends}`);
    writeFileSync(join(out, 'showrc.txt'), `${backends}\n`);
  },
};
