// Typed errors. Every failure guestkit reports is a GuestkitError with a stable `code`;
// anything else reaching the CLI is a bug.

export type ErrorCode =
  /** On-disk data is inconsistent; the message names the structure. */
  | 'CORRUPT'
  /** A valid feature we do not implement (names the feature). */
  | 'UNSUPPORTED'
  /** Refused on policy: unsafe backing file, corrupt bit without --force, write to a read tool... */
  | 'REFUSED'
  /** An on-disk value exceeds a named limit (see limits.ts). */
  | 'LIMIT'
  /** A chain, tree or symlink path loops. */
  | 'LOOP'
  /** No such file, device, key or snapshot. */
  | 'NOT_FOUND'
  | 'NOT_DIR'
  | 'IS_DIR'
  /** The operation does not apply to this object (readlink of a non-link: EINVAL). */
  | 'INVALID'
  /** Host I/O failure (open/read of the image file). */
  | 'IO'
  /** Bad command line. */
  | 'USAGE'
  /** Unrecognised image or filesystem format. */
  | 'UNKNOWN_FORMAT'
  /** A child process (qemu-img, guestfish...) failed. */
  | 'EXTERNAL';

export class GuestkitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GuestkitError';
    this.code = code;
  }
}

export function isGuestkitError(e: unknown): e is GuestkitError {
  return e instanceof GuestkitError;
}

/** Shorthand for the most common error: structure `what` is corrupt. */
export function corrupt(what: string, detail: string): GuestkitError {
  return new GuestkitError('CORRUPT', `${what}: ${detail}`);
}

/** Turn a Node system error (ENOENT, EACCES...) into a GuestkitError naming `path`. */
export function fromSystemError(e: unknown, path: string): GuestkitError {
  if (e instanceof GuestkitError) return e;
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return new GuestkitError('NOT_FOUND', `${path}: No such file or directory`, { cause: e });
    case 'EACCES':
    case 'EPERM':
      return new GuestkitError('IO', `${path}: Permission denied`, { cause: e });
    case 'EISDIR':
      return new GuestkitError('IS_DIR', `${path}: Is a directory`, { cause: e });
    default:
      return new GuestkitError('IO', `${path}: ${err?.message ?? String(e)}`, { cause: e });
  }
}
