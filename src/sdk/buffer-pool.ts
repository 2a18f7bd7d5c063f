/**
 * At most `max` buffers, allocated on first need (`size` bytes) and reused: `acquire` waits for a `release` once all
 * exist. For plugins that stream a run through a few large buffers (S3 parts, Redshift statements): the bytes are
 * copied once, nothing is left for the garbage collector, and memory is bounded by `max` whatever the run's size.
 */
export class BufferPool {
  allocated = 0;
  private readonly free: Buffer[] = [];
  private readonly waiting: ((buf: Buffer) => void)[] = [];

  constructor(
    readonly max: number,
    readonly size: number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`a buffer pool holds at least one buffer (got ${max})`);
  }

  acquire(): Promise<Buffer> {
    const free = this.free.pop();
    if (free) return Promise.resolve(free);
    if (this.allocated < this.max) {
      this.allocated++;
      // Outside Node's shared pool: each lives as long as the pool.
      return Promise.resolve(Buffer.allocUnsafeSlow(this.size));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Gives `buf` (or a larger buffer that replaced it) back, to the longest waiter first. */
  release(buf: Buffer): void {
    const next = this.waiting.shift();
    if (next) next(buf);
    else this.free.push(buf);
  }
}
