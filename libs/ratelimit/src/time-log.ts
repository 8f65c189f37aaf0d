/**
 * The memory store's RPM log: admission times in arrival order, in a growable ring of doubles, so
 * admitting and forgetting cost O(1) without allocating (a plain array that is pushed to and sliced
 * from the front makes garbage at the rate of admissions).
 */
export class TimeLog {
  private buf = new Float64Array(16);
  private head = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(t: number): void {
    if (this.count === this.buf.length) this.grow();
    this.buf[(this.head + this.count) % this.buf.length] = t;
    this.count++;
  }

  /** The i-th oldest entry (0 = oldest). */
  at(i: number): number {
    return this.buf[(this.head + i) % this.buf.length]!;
  }

  newest(): number | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  /** Drops entries at or before `cutoff` from the old end; returns how many remain. */
  dropUntil(cutoff: number): number {
    while (this.count > 0 && this.buf[this.head]! <= cutoff) {
      this.head = (this.head + 1) % this.buf.length;
      this.count--;
    }
    return this.count;
  }

  private grow(): void {
    const next = new Float64Array(this.buf.length * 2);
    for (let i = 0; i < this.count; i++) next[i] = this.at(i);
    this.buf = next;
    this.head = 0;
  }
}
