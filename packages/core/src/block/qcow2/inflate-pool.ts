// A small pool of worker threads that inflate zlib (raw deflate) qcow2 clusters in batches,
// for bulk reads (Qcow2Device.preadAsync): QEMU decompresses on a thread pool too. Node's own
// async zlib runs on libuv's pool but costs ~0.2 ms per call in stream machinery (measured),
// about as much as inflating a 64 KiB cluster, so whole batches go to a worker in one message.
// The pool starts only when a read has several compressed clusters to inflate; its workers
// do not keep the process alive when idle.

import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/** Worker threads at most (the main thread keeps reading data clusters meanwhile). */
export const INFLATE_WORKERS_MAX = 4;

/**
 * The worker: inflate each source with the options the synchronous path uses (Z_SYNC_FLUSH,
 * at most one cluster of output); reply with the outputs or each one's error. Inline CommonJS
 * so that it runs the same from the sources, the compiled package and the CLI bundle.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const z = require('node:zlib');
parentPort.on('message', (m) => {
  const out = [];
  const transfer = [];
  for (const src of m.srcs) {
    try {
      const r = z.inflateRawSync(src, { finishFlush: z.constants.Z_SYNC_FLUSH, maxOutputLength: m.size, chunkSize: Math.max(m.size, z.constants.Z_MIN_CHUNK) });
      const u = new Uint8Array(r.buffer, r.byteOffset, r.length);
      out.push(u);
      if (r.byteOffset === 0 && r.buffer.byteLength === r.length) transfer.push(r.buffer);
    } catch (e) {
      out.push({ code: e && e.code, message: String((e && e.message) || e) });
    }
  }
  parentPort.postMessage({ id: m.id, out }, transfer);
});
`;

/** What inflating one source gave: the data, or why it failed (as zlib said). */
export type InflateResult = Uint8Array | { code?: string; message: string };

interface Slot {
  worker: Worker;
  jobs: Map<number, { resolve: (r: InflateResult[]) => void; reject: (e: Error) => void }>;
}

let slots: Slot[] | undefined;
let nextId = 0;

function startPool(): Slot[] {
  // One CPU is the main thread's, which reads the data clusters meanwhile.
  const n = Math.max(1, Math.min(INFLATE_WORKERS_MAX, availableParallelism() - 1));
  const pool: Slot[] = [];
  for (let i = 0; i < n; i++) {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: { id: number; out: InflateResult[] }) => {
      const j = slot.jobs.get(m.id);
      slot.jobs.delete(m.id);
      if (slot.jobs.size === 0) worker.unref();
      j?.resolve(m.out);
    });
    const fail = (e: Error) => {
      // A worker that died takes its jobs with it; the next read starts a new pool.
      if (slots === pool) slots = undefined;
      for (const j of slot.jobs.values()) j.reject(e);
      slot.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`inflate worker exited (code ${code})`)));
    pool.push(slot);
  }
  return pool;
}

/** Whether the pool is running (a bulk read started it). */
export function inflatePoolStarted(): boolean {
  return slots !== undefined;
}

/** Number of workers in the pool (starting it). */
export function inflateWorkers(): number {
  slots ??= startPool();
  return slots.length;
}

/**
 * Inflate `srcs` (raw deflate, each to at most `size` bytes) on worker `index` of the pool.
 * The sources' buffers are transferred to the worker (unusable afterwards).
 */
export function inflateOnWorker(index: number, srcs: Uint8Array[], size: number): Promise<InflateResult[]> {
  slots ??= startPool();
  const slot = slots[index % slots.length];
  const id = nextId++;
  return new Promise((resolve, reject) => {
    slot.jobs.set(id, { resolve, reject });
    slot.worker.ref(); // keep the process alive until the answer is in
    const transfer = srcs.filter((s) => s.byteOffset === 0 && s.buffer.byteLength === s.length).map((s) => s.buffer as ArrayBuffer);
    slot.worker.postMessage({ id, srcs, size }, transfer);
  });
}

/** Stop the workers (tests; a CLI process simply exits). */
export async function closeInflatePool(): Promise<void> {
  const s = slots;
  slots = undefined;
  if (s) await Promise.all(s.map((x) => x.worker.terminate()));
}
