import { it } from 'vitest';
import { Session } from 'node:inspector';
import { RawFile } from '../src/block/raw.js';
import { openBtrfs } from '../src/fs/btrfs/index.js';

it('scratch perf', async () => {
  const s = new Session(); s.connect();
  const post = (m: string, p?: any) => new Promise<any>((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  await post('Profiler.enable'); await post('Profiler.start');
  for (const img of ['btrfs.img', 'btrfs-n4k.img']) {
    const fs = openBtrfs(new RawFile('/work/main/images/out/btrfs-rootdir/' + img));
    const all: number[] = [];
    const walk = (ino: number) => { for (const e of fs.readdir(ino)) { all.push(e.ino); if (e.type === 'dir') walk(e.ino); } };
    walk(fs.rootIno);
    for (const i of all) fs.stat(i);
    for (const i of all) fs.stat(i);
  }
  const { profile } = await post('Profiler.stop');
  const self = new Map<string, number>();
  const dt = profile.timeDeltas; const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
  profile.samples.forEach((id: number, i: number) => { const n: any = byId.get(id); const k = `${n.callFrame.functionName} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0)); });
  console.log([...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, v]) => `${(v / 1000).toFixed(0)}ms ${k}`).join('\n'));
});
