/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** What a bench event carries in `Visit.reason` (the only free-form field of a Visit). */
export interface BenchStamp {
  run: string;
  seq: number;
  /** wallClock() when published */
  t: number;
}
