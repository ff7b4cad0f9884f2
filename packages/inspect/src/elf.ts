// The architecture of a binary from its header, as libguestfs's file_architecture names it
// (daemon/filearch.ml): ELF e_machine + EI_CLASS/EI_DATA (System V ABI gABI, "ELF Header"),
// or a PE image's COFF Machine field (Microsoft PE/COFF spec, "Machine Types").

/** ELF e_machine values → libguestfs architecture names. */
const ELF_MACHINES: Record<number, (is64: boolean, le: boolean) => string> = {
  2: () => 'sparc', // EM_SPARC
  3: () => 'i386', // EM_386 (libguestfs canonicalises i[3-6]86 to i386)
  8: (_s, le) => (le ? 'mipsel' : 'mips'), // EM_MIPS
  18: () => 'sparc', // EM_SPARC32PLUS
  20: () => 'ppc', // EM_PPC
  21: (_s, le) => (le ? 'ppc64le' : 'ppc64'), // EM_PPC64
  22: () => 's390x', // EM_S390 (64-bit objects)
  40: () => 'arm', // EM_ARM
  43: () => 'sparc64', // EM_SPARCV9
  50: () => 'ia64', // EM_IA_64
  62: () => 'x86_64', // EM_X86_64
  183: () => 'aarch64', // EM_AARCH64
  243: (is64) => (is64 ? 'riscv64' : 'riscv32'), // EM_RISCV
  258: () => 'loongarch64', // EM_LOONGARCH
};

/** PE COFF Machine → libguestfs names (when the optional header is cut off). */
const PE_MACHINES: Record<number, string> = { 0x14c: 'i386', 0x8664: 'x86_64', 0xaa64: 'aarch64', 0x1c4: 'arm', 0x200: 'ia64' };

/** Architecture of the binary whose first bytes are `head` (64 bytes for ELF, up to 4 KiB for PE), or null. */
export function binaryArchitecture(head: Uint8Array): string | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 20 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) {
    const is64 = b[4] === 2;
    const le = b[5] === 1;
    if ((b[4] !== 1 && b[4] !== 2) || (b[5] !== 1 && b[5] !== 2)) return null;
    const machine = le ? b.readUInt16LE(18) : b.readUInt16BE(18);
    if (machine === 22 && !is64) return 's390';
    const f = ELF_MACHINES[machine];
    return f ? f(is64, le) : null;
  }
  if (b.length >= 64 && b[0] === 0x4d && b[1] === 0x5a) {
    const peOff = b.readUInt32LE(0x3c);
    if (peOff + 6 > b.length) return null;
    if (b.readUInt32BE(peOff) !== 0x50450000) return null; // "PE\0\0"
    // libguestfs goes by file(1): "PE32 executable" → i386, "PE32+ executable" → x86_64,
    // i.e. the optional header magic (0x10b PE32, 0x20b PE32+).
    if (peOff + 26 > b.length) return PE_MACHINES[b.readUInt16LE(peOff + 4)] ?? null;
    const magic = b.readUInt16LE(peOff + 24);
    return magic === 0x20b ? 'x86_64' : magic === 0x10b ? 'i386' : null;
  }
  return null;
}
