/**
 * Deterministic randomness. The simulator must give the same account, the same readings and the same uplinks for the
 * same seed on every machine and every run, so nothing here touches Math.random or the clock.
 */

/** mulberry32: tiny, fast and good enough for test data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A stable 32-bit hash of a few numbers. Readings are a pure function of (seed, probe, time), so every "random"
 * choice about a reading is a hash of those inputs instead of a draw from a stateful generator.
 */
export function hashInts(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    // Fold in the high bits too: minute and day numbers are small, but callers may pass epoch milliseconds.
    h = mix(h ^ (part >>> 0));
    h = mix(h ^ Math.floor(part / 4294967296));
  }
  return h >>> 0;
}

/** A hash as a float in [0, 1). */
export function unit(hash: number): number {
  return (hash >>> 0) / 4294967296;
}

/** The murmur3 finaliser: spreads every input bit over the whole word. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
