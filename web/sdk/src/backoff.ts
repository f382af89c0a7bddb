/**
 * fullJitter is the delay before reconnect attempt n (0-based): a uniform
 * random time between 0 and min(cap, base·2ⁿ) ("full jitter"), so a crowd
 * of clients cut off together does not come back together.
 */
export function fullJitter(attempt: number, random: () => number = Math.random, baseMs = 500, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
