// rpm's sqlite backend (rpm ≥ 4.16, lib/backend/sqlite.c): table Packages(hnum INTEGER
// PRIMARY KEY, blob BLOB), one header blob per installed package, read by our own SQLite
// table reader (../sqlite.ts) from a copy in memory, never from the guest file. hnum is the
// rowid (an INTEGER PRIMARY KEY column is stored as NULL in the record, §2.1), so rowid order
// is `ORDER BY hnum`.

import { GuestkitError } from '@guestkit/core';
import { SqliteDb } from '../sqlite.js';

/** Limit on packages read from one database. */
export const MAX_RPMDB_PACKAGES = 1_000_000;

/** The header blobs of rpmdb.sqlite's Packages table, in hnum order. */
export async function sqliteHeaderBlobs(db: Uint8Array, what = 'rpmdb.sqlite'): Promise<Uint8Array[]> {
  const d = new SqliteDb(db, what);
  const root = d.tableRoot('Packages');
  if (root === null) throw new GuestkitError('CORRUPT', `${what}: no Packages table`);
  const out: Uint8Array[] = [];
  for (const row of d.tableRows(root, MAX_RPMDB_PACKAGES)) {
    const blob = row.values[1];
    if (blob instanceof Uint8Array) out.push(blob);
  }
  return out;
}
