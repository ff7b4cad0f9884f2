// The module jazzer.js loads: the one-target bundle named by GUESTKIT_FUZZ_BUNDLE (fuzz/run.mjs
// builds it and sets the variable). A GuestkitError is a clean answer and never escapes a
// target; any other exception propagates and jazzer.js reports it as a crash with its input.
const { fuzz } = require(process.env.GUESTKIT_FUZZ_BUNDLE);
// Targets throw and catch thousands of GuestkitErrors per second; capturing deep stacks for
// them costs a third of the time. A finding is re-run with full stacks when reproduced.
Error.stackTraceLimit = 4;
module.exports.fuzz = function (data) {
  fuzz(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
};
