/**
 * A FIFO of numbers holding at most `capacity` values; pushing into a full ring drops the oldest.
 * Storage starts small and doubles up to `capacity`, so a generous bound (say a 1,000,000 rpm
 * quota) costs memory only when that many values actually arrive.
 */
export class NumberRing {
  private buffer: Float64Array;
  /** Index of the oldest value in `buffer`. */
  private head = 0;
  private count = 0;

  constructor(
    readonly capacity: number,
    initialSize = 1024,
  ) {
    this.buffer = new Float64Array(Math.max(1, Math.min(capacity, initialSize)));
  }

  /** How many values the ring holds. */
  get size(): number {
    return this.count;
  }

  /** The `index`-th oldest value (0 = oldest); the caller keeps `0 <= index < size`. */
  at(index: number): number {
    return this.buffer[(this.head + index) % this.buffer.length]!;
  }

  push(value: number): void {
    if (this.count === this.buffer.length) {
      if (this.buffer.length < this.capacity) {
        this.grow();
      } else {
        this.buffer[this.head] = value;
        this.head = (this.head + 1) % this.buffer.length;
        return;
      }
    }
    this.buffer[(this.head + this.count) % this.buffer.length] = value;
    this.count++;
  }

  /** The newest `limit` values (all by default), oldest first. */
  toArray(limit = this.count): number[] {
    const n = Math.min(limit, this.count);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.at(this.count - n + i);
    return out;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.capacity, this.buffer.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.buffer = next;
    this.head = 0;
  }
}
