// The devices of one btrfs filesystem and reads of its logical address space (btrfs docs,
// "On-disk Format" § Chunk tree, "Physical to logical mapping"): devices are known by the
// devid in their superblock's dev_item; a logical range is read from the first copy whose
// device is present (missing devices are reported once, when the chunk tree has listed them).
// Tree blocks, which need "a good copy", go through copies() instead.

import type { BlockDevice } from '../../block/device.js';
import { GuestkitError } from '../../errors.js';
import { ChunkMap, type Stripe } from './chunk.js';
import { readSuperblock, type Superblock } from './superblock.js';

export interface PhysicalCopy extends Stripe {
  dev: BlockDevice;
}

export class BtrfsDevices {
  readonly byId = new Map<number, BlockDevice>();
  readonly chunks = new ChunkMap();
  private readonly missing = new Set<number>();

  constructor(
    primary: BlockDevice,
    readonly sb: Superblock,
    extra: readonly BlockDevice[],
    private readonly note: (m: string) => void,
  ) {
    this.byId.set(sb.devItem.devid, primary);
    for (const d of extra) {
      if (d === primary) continue;
      let other: Superblock;
      try {
        other = readSuperblock(d, note);
      } catch (e) {
        if (!(e instanceof GuestkitError)) throw e;
        note(`${d.description}: not used as a btrfs device: ${e.message}`);
        continue;
      }
      if (other.fsid !== sb.fsid) {
        note(`${d.description}: belongs to btrfs filesystem ${other.fsid}, not ${sb.fsid}; not used`);
        continue;
      }
      if (this.byId.has(other.devItem.devid)) {
        note(`${d.description}: btrfs devid ${other.devItem.devid} was already given; not used`);
        continue;
      }
      this.byId.set(other.devItem.devid, d);
    }
  }

  /** Every copy of [logical, logical+len) that lies in one stripe piece, present devices only. */
  copies(logical: number, len: number, what: string): PhysicalCopy[] {
    const m = this.chunks.map(logical, what);
    if (m.length < len) {
      throw new GuestkitError('CORRUPT', `${what}: logical range ${logical}+${len} crosses a stripe or chunk boundary`);
    }
    const out: PhysicalCopy[] = [];
    for (const c of m.copies) {
      const dev = this.byId.get(c.devid);
      if (dev) out.push({ ...c, dev });
    }
    if (!out.length) throw this.noDevice(m.copies, logical, what);
    return out;
  }

  /** Read [logical, logical+buf.length) into buf from the first present copy of each piece. */
  read(logical: number, buf: Uint8Array, what: string): void {
    let done = 0;
    while (done < buf.length) {
      const m = this.chunks.map(logical + done, what);
      const n = Math.min(m.length, buf.length - done);
      let dev: BlockDevice | undefined;
      let at = 0;
      for (const c of m.copies) {
        dev = this.byId.get(c.devid);
        if (dev) {
          at = c.offset;
          break;
        }
      }
      if (!dev) throw this.noDevice(m.copies, logical + done, what);
      const part = buf.subarray(done, done + n);
      if (at + n > dev.size || dev.pread(part, at) !== n) {
        throw new GuestkitError('CORRUPT', `${what}: logical ${logical + done} maps to ${at}+${n}, outside ${dev.description} (${dev.size} bytes)`);
      }
      done += n;
    }
  }

  /** Note once that devices `devids` of the `total` are absent (reads use other copies). */
  reportMissing(devids: readonly number[], total: number): void {
    const fresh = devids.filter((d) => !this.missing.has(d));
    if (!fresh.length) return;
    for (const d of fresh) this.missing.add(d);
    this.note(`btrfs filesystem ${this.sb.fsid}: ${total - devids.length} of ${total} devices given (devid ${devids.join(', ')} missing); reading the copies on the others (degraded)`);
  }

  private noDevice(copies: readonly Stripe[], logical: number, what: string): GuestkitError {
    const ids = [...new Set(copies.map((c) => c.devid))].join(', ');
    return new GuestkitError('NOT_FOUND', `${what}: logical address ${logical} is only on btrfs device ${ids}, which was not given`);
  }
}
