// Windows applications (libguestfs lib/inspect-apps.c list_applications_windows): the
// subkeys of SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall and of its WOW6432Node twin
// that have a DisplayName, plus Windows Defender when present and not disabled.

import { GuestkitError } from '@guestkit/core';
import type { TreeAccess } from '../access.js';
import type { Application } from '../types.js';
import { openGuestHive, keyPath, valueString } from '../windows.js';
import { clean } from './dpkg.js';

const AV = [/virus/i, /kaspersky/i, /mcafee/i, /norton/i, /sophos/i, /ApexOneNT/i, /avg technologies/i];

/** get_class_from_windows_app. */
function classOf(...fields: (string | undefined)[]): string | undefined {
  return fields.some((f) => f !== undefined && AV.some((r) => r.test(f))) ? 'antivirus' : undefined;
}

export function windowsApplications(t: TreeAccess, systemroot: string, warn: (m: string) => void): Application[] {
  // A hive that does not open was already warned about by the root's inspection (windows.ts).
  const hive = openGuestHive(t, `${systemroot}/system32/config/software`, () => {});
  if (!hive) return [];
  const apps: Application[] = [];
  try {
    const root = hive.root();
    for (const path of [['Microsoft', 'Windows', 'CurrentVersion', 'Uninstall'], ['WOW6432node', 'Microsoft', 'Windows', 'CurrentVersion', 'Uninstall']]) {
      const k = keyPath(root, path);
      if (!k) continue;
      for (const child of k.subkeys()) {
        try {
          const displayName = valueString(child.value('DisplayName'));
          if (displayName === undefined) continue;
          const publisher = valueString(child.value('Publisher'));
          apps.push(clean({
            name: child.name, displayName, epoch: 0,
            version: valueString(child.value('DisplayVersion')),
            installPath: valueString(child.value('InstallLocation')),
            publisher,
            url: valueString(child.value('URLInfoAbout')),
            description: valueString(child.value('Comments')),
            class: classOf(child.name, displayName, publisher),
          }));
        } catch (e) {
          if (!(e instanceof GuestkitError)) throw e;
          warn(`SOFTWARE\\${path.join('\\')}: ${e.message}`);
        }
      }
    }
    const wd = keyPath(root, ['Microsoft', 'Windows Defender']);
    if (wd) {
      const v = wd.value('DisableAntiVirus');
      const d = v?.data();
      const disabled = d !== undefined && d.byteLength >= 4 && Buffer.from(d.buffer, d.byteOffset, 4).readInt32LE(0) === 1;
      if (!disabled) {
        apps.push({ name: 'WinDefend', displayName: 'Microsoft Defender Antivirus', epoch: 0, publisher: 'Microsoft Corporation', class: 'antivirus' });
      }
    }
  } catch (e) {
    if (!(e instanceof GuestkitError)) throw e;
    warn(`SOFTWARE hive: ${e.message}`);
  }
  return apps;
}
