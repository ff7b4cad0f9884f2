// A pool of guest-I/O workers (worker.ts). Requests go to the worker with the fewest in
// flight; replies come back as promises. The main thread never touches the guest.

import { Worker } from 'node:worker_threads';
import { GuestkitError } from '@guestkit/core';
import type { Reply, Request, WorkerInit } from './protocol.js';

type Pending = { resolve: (r: Reply) => void };
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type Req = DistributiveOmit<Request, 'id'>;

interface Slot {
  worker: Worker;
  inFlight: number;
  pending: Map<number, Pending>;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  private constructor() {}

  /** Start `n` workers and wait until each has opened the guest (or the first fails). */
  static async start(n: number, init: WorkerInit): Promise<WorkerPool> {
    const pool = new WorkerPool();
    // Resolved through the package's exports so it also works from the bundled CLI
    // (tools/cli/dist/guestkit.mjs), where import.meta.url is the bundle.
    const url = new URL(import.meta.resolve('@guestkit/tool-mount/worker'));
    const ready: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const worker = new Worker(url, { workerData: init });
      const slot: Slot = { worker, inFlight: 0, pending: new Map() };
      pool.slots.push(slot);
      ready.push(new Promise<void>((resolve, reject) => {
        let started = false;
        worker.on('message', (m: Reply) => {
          if (m.id === 0) {
            started = true;
            resolve();
            return;
          }
          const p = slot.pending.get(m.id);
          if (!p) return;
          slot.pending.delete(m.id);
          slot.inFlight--;
          p.resolve(m);
        });
        worker.on('error', (e) => {
          if (!started) reject(e);
          pool.fail(slot, e);
        });
        worker.on('exit', (code) => {
          if (!started) reject(new GuestkitError('IO', `guest I/O worker exited with status ${code}`));
          pool.fail(slot, new Error(`worker exited with status ${code}`));
        });
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** A dead worker answers its pending requests with EIO and takes no more. */
  private fail(slot: Slot, e: Error): void {
    for (const [id, p] of slot.pending) p.resolve({ id, errno: -5, message: `guest I/O worker failed: ${e.message}` });
    slot.pending.clear();
    slot.inFlight = Number.POSITIVE_INFINITY;
  }

  request(req: Req, transfer: ArrayBuffer[] = []): Promise<Reply> {
    let best: Slot | undefined;
    for (const s of this.slots) if (!best || s.inFlight < best.inFlight) best = s;
    if (!best || this.closed || best.inFlight === Number.POSITIVE_INFINITY) {
      return Promise.resolve({ id: 0, errno: -5, message: 'no guest I/O worker left' });
    }
    const id = this.nextId++;
    const slot = best;
    slot.inFlight++;
    return new Promise<Reply>((resolve) => {
      slot.pending.set(id, { resolve });
      slot.worker.postMessage({ ...req, id }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => 0)));
  }
}
