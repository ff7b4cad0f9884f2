// The module jazzer.js loads: the one-target bundle named by GUESTKIT_FUZZ_BUNDLE (fuzz/run.mjs
// builds it and sets the variable). A GuestkitError is a clean answer and never escapes a
// target; any other exception propagates and jazzer.js reports it as a crash with its input.
const { fuzz } = require(process.env.GUESTKIT_FUZZ_BUNDLE);
// Targets throw and catch thousands of GuestkitErrors per second; capturing deep stacks for
// them costs a third of the time. A finding is re-run with full stacks when reproduced.
Error.stackTraceLimit = 4;

// GUESTKIT_FUZZ_STATS=FILE: executions and the process's CPU time from the first input on (so
// without the instrumentation at start-up), written to FILE every second or so. run.mjs records
// executions per CPU-second with each run: on a shared machine the wall-clock rate libFuzzer
// prints says more about the load than about the target. (libFuzzer ends the process with
// exit(), so there is no exit event to write a last figure from.)
const statsFile = process.env.GUESTKIT_FUZZ_STATS;
let execs = 0;
let cpu0;
let wall0 = 0;
let nextWrite = 0;
function stats() {
  const now = performance.now();
  if (execs === 1) {
    cpu0 = process.cpuUsage();
    wall0 = now;
    nextWrite = now + 1000;
  } else if (now >= nextWrite) {
    const c = process.cpuUsage(cpu0);
    nextWrite = now + 1000;
    require('node:fs').writeFileSync(statsFile, JSON.stringify({ execs: execs - 1, cpuMs: (c.user + c.system) / 1000, wallMs: now - wall0 }));
  }
}

module.exports.fuzz = function (data) {
  if (statsFile) {
    execs++;
    stats();
  }
  fuzz(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
};
