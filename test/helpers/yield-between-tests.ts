// Setup file (vitest.config.ts): give the event loop one turn before every test.
// Vitest runs the tests of a file back to back with only microtask awaits in between, so a file
// of synchronous tests (whole-filesystem walks) is one long stretch in which the worker never
// reads its RPC channel; once a stretch passes 60 s, the worker's pending "onTaskUpdate" call
// times out ("[vitest-worker]: Timeout calling onTaskUpdate") although every test passed.
// A setImmediate lets the poll phase deliver the replies, so only a single test of more than
// 60 s could still do that.
import { beforeEach } from 'vitest';

beforeEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
