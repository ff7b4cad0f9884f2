// rpm's sqlite backend (rpm ≥ 4.16, lib/backend/sqlite.c): table Packages(hnum INTEGER
// PRIMARY KEY, blob BLOB), one header blob per installed package. Read with sql.js (SQLite
// compiled to WebAssembly: no native build, and the database is opened from a copy in memory,
// never from the guest file).

import { createRequire } from 'node:module';
import { GuestkitError } from '@guestkit/core';

interface SqlJsDatabase {
  exec(sql: string): { columns: string[]; values: unknown[][] }[];
  prepare(sql: string): { step(): boolean; get(): unknown[]; free(): void };
  close(): void;
}
interface SqlJsStatic {
  Database: new (data: Uint8Array) => SqlJsDatabase;
}

let sqlPromise: Promise<SqlJsStatic> | null = null;

function loadSqlJs(): Promise<SqlJsStatic> {
  if (!sqlPromise) {
    const require = createRequire(import.meta.url);
    const init = require('sql.js') as (cfg?: object) => Promise<SqlJsStatic>;
    sqlPromise = init();
  }
  return sqlPromise;
}

/** Limit on packages read from one database. */
export const MAX_RPMDB_PACKAGES = 1_000_000;

/** The header blobs of rpmdb.sqlite's Packages table, in hnum order. */
export async function sqliteHeaderBlobs(db: Uint8Array): Promise<Uint8Array[]> {
  const SQL = await loadSqlJs();
  let d: SqlJsDatabase;
  try {
    d = new SQL.Database(db);
  } catch (e) {
    throw new GuestkitError('CORRUPT', `rpmdb.sqlite: not an SQLite database (${(e as Error).message})`);
  }
  try {
    const st = d.prepare('SELECT blob FROM Packages ORDER BY hnum');
    const out: Uint8Array[] = [];
    try {
      while (st.step() && out.length < MAX_RPMDB_PACKAGES) {
        const v = st.get()[0];
        if (v instanceof Uint8Array) out.push(v);
      }
    } finally {
      st.free();
    }
    return out;
  } catch (e) {
    if (e instanceof GuestkitError) throw e;
    throw new GuestkitError('CORRUPT', `rpmdb.sqlite: ${(e as Error).message}`);
  } finally {
    d.close();
  }
}
