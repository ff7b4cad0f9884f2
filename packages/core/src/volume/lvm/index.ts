// LVM2: physical volumes → volume groups → logical volumes. (Reader: issue 3, in progress;
// until it lands no logical volumes are found.)

import type { BlockDevice } from '../../block/device.js';

export interface PhysicalVolumeCandidate {
  /** Device name, e.g. /dev/sda2. */
  name: string;
  dev: BlockDevice;
}

export interface LogicalVolume {
  vg: string;
  lv: string;
  /** /dev/VG/LV */
  name: string;
  dev: BlockDevice;
  uuid?: string;
}

export interface VolumeGroup {
  name: string;
  uuid: string;
  /** PV device names. */
  pvs: string[];
  lvs: LogicalVolume[];
}

export interface LvmScan {
  vgs: VolumeGroup[];
  lvs: LogicalVolume[];
  /** PV device name → PV UUID */
  pvs: Map<string, string>;
}

/** Find PV labels on the candidates, assemble VGs from their metadata, and expose LVs. */
export function scanLvm(_candidates: PhysicalVolumeCandidate[]): LvmScan {
  return { vgs: [], lvs: [], pvs: new Map() };
}
