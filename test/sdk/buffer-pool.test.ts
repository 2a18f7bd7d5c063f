import { BufferPool } from '../../src/sdk';

describe('BufferPool', () => {
  it('allocates at most max buffers, makes the next acquire wait for a release, and reuses what was released', async () => {
    const pool = new BufferPool(2, 16);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a.length, b.length, pool.allocated]).toEqual([16, 16, 2]);
    let third: Buffer | undefined;
    const waiting = pool.acquire().then((buf) => (third = buf));
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBeUndefined();
    pool.release(a);
    await waiting;
    expect(third).toBe(a);
    pool.release(b);
    expect(await pool.acquire()).toBe(b);
    expect(pool.allocated).toBe(2);
  });

  it('refuses a pool of no buffers', () => {
    expect(() => new BufferPool(0, 16)).toThrow(/at least one buffer/);
  });
});
