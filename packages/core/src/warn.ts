// Warnings: things the user should know that do not stop the work (a dirty qcow2, a GPT read
// from its backup header). Tools route them to stderr as `guestkit: warning: ...`.

export type WarnFn = (message: string) => void;

let sink: WarnFn = (m) => process.stderr.write(`guestkit: warning: ${m}\n`);
const seen = new Set<string>();

export function setWarningSink(fn: WarnFn): void {
  sink = fn;
}

export function warn(message: string): void {
  sink(message);
}

/** Warn once per process for a given message. */
export function warnOnce(message: string): void {
  if (seen.has(message)) return;
  seen.add(message);
  sink(message);
}
