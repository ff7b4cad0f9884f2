// Shared by bench scripts: time a command under bash's `time` and take medians. (run.mjs skips
// files whose name starts with "_".)
import { spawnSync } from 'node:child_process';

const quote = (a) => `'${String(a).replace(/'/g, `'\\''`)}'`;

/**
 * Run `argv` once, stdout to /dev/null, under bash's `time` (getrusage of the children:
 * millisecond resolution, CPU of all threads): wall and CPU (user + sys) seconds.
 */
export function timeOnce(argv, env = {}) {
  const script = `TIMEFORMAT='%R %U %S'; time ${argv.map(quote).join(' ')} > /dev/null`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || `exit ${r.status}`}`);
  const [real, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall: real, cpu: user + sys };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
