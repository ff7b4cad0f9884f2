// Runs virt-win-reg (guestfs-tools) on images/out/reg-windows/windows.img for every case of
// test/parity/win-reg.cases.json and writes test/goldens/win-reg/NAME.{out,err,rc}, plus
// IMAGES.sha256 (the image the goldens were made from). Run through win-reg-goldens.sh.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const img = join(root, 'images', 'out', 'reg-windows', 'windows.img');
const out = join(root, 'test', 'goldens', 'win-reg');
const only = process.argv.slice(2);
const cases = JSON.parse(readFileSync(join(root, 'test', 'parity', 'win-reg.cases.json'), 'utf8')).filter((c) => only.length === 0 || only.includes(c.name));

function one(c) {
  return new Promise((resolve) => {
    const p = spawn('virt-win-reg', ['--format=raw', img, ...c.args]);
    const so = [];
    const se = [];
    p.stdout.on('data', (d) => so.push(d));
    p.stderr.on('data', (d) => se.push(d));
    p.on('close', (code) => {
      writeFileSync(join(out, `${c.name}.out`), Buffer.concat(so));
      writeFileSync(join(out, `${c.name}.err`), Buffer.concat(se));
      writeFileSync(join(out, `${c.name}.rc`), `${code}\n`);
      process.stderr.write(`${c.name}: exit ${code}\n`);
      resolve();
    });
  });
}

const queue = [...cases];
await Promise.all([0, 1].map(async () => {
  while (queue.length > 0) await one(queue.shift());
}));
const h = createHash('sha256').update(readFileSync(img)).digest('hex');
writeFileSync(join(out, 'IMAGES.sha256'), `${h}  images/out/reg-windows/windows.img\n`);
