import { retryDelayMs } from '../../src/worker/backoff';

const policy = { initialMs: 5000, maxMs: 120_000 };

describe('retryDelayMs', () => {
  it('doubles per attempt between half and the full nominal delay', () => {
    expect(retryDelayMs(1, policy, undefined, () => 0)).toBe(2500);
    expect(retryDelayMs(1, policy, undefined, () => 1)).toBe(5000);
    expect(retryDelayMs(3, policy, undefined, () => 1)).toBe(20_000);
    expect(retryDelayMs(3, policy, undefined, () => 0.5)).toBe(15_000);
  });
  it('never exceeds the cap', () => {
    expect(retryDelayMs(20, policy, undefined, () => 1)).toBe(120_000);
  });
  it("honours a plugin's retry-after up to the cap", () => {
    expect(retryDelayMs(1, policy, 30_000, () => 0)).toBe(30_000);
    expect(retryDelayMs(1, policy, 600_000, () => 0)).toBe(120_000);
  });
});
