// What partition-table readers return. Numbers are bytes; `index` is the number libguestfs
// gives the partition (/dev/sda<index>): MBR primaries 1-4, logicals from 5; GPT entry order.

export type PartitionScheme = 'mbr' | 'gpt';

export interface Partition {
  index: number;
  /** Byte offset of the first sector. */
  start: number;
  /** Size in bytes. */
  size: number;
  /** MBR: the type byte as two hex digits ("83"). GPT: the type GUID, upper case. */
  type: string;
  /** Human name of the type ("Linux filesystem", "EFI System"). */
  typeName?: string;
  /** GPT partition name. */
  name?: string;
  /** GPT unique partition GUID; MBR: "<disk id>-<index>" as PARTUUID. */
  uuid?: string;
  bootable?: boolean;
  /** MBR: 'primary' | 'extended' | 'logical'. */
  kind?: 'primary' | 'extended' | 'logical';
}

export interface PartitionTable {
  scheme: PartitionScheme;
  sectorSize: number;
  /** MBR: disk signature as 8 hex digits; GPT: disk GUID. */
  diskId?: string;
  partitions: Partition[];
}
