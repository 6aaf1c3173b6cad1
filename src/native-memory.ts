/**
 * DuckDB results and plans live in native memory that is released only when V8 collects their small JS handles.
 * The worker's JS heap stays small, so V8 sees no reason to collect, and the process grows by tens of MB before
 * it does (measured: BENCHMARKS.md). A long-running writer therefore asks for a full collection now and then.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let last = Date.now();

/** A full collection, at most once per `everyMs`. */
export function releaseNativeMemory(everyMs = 10_000): void {
  if (Date.now() - last < everyMs) return;
  last = Date.now();
  gc();
}
