// qcow2 images: see docs/interop/qcow2.txt in QEMU. (Reader to be written; issue 2.)
import type { BlockDevice } from '../device.js';
import type { OpenOptions } from '../open.js';
import { GuestkitError } from '../../errors.js';

export function openQcow2(path: string, _opts: OpenOptions): BlockDevice {
  throw new GuestkitError('UNSUPPORTED', `${path}: qcow2 reader not written yet`);
}
