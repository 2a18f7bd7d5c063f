/** Injection tokens for values the composition root (main.ts) registers in the tsyringe container. */
export const CONFIG = Symbol('Config');
export const DATA_SOURCE = Symbol('DataSource');
export const LOGGER = Symbol('Logger');
export const SECRET_BOX = Symbol('SecretBox');
export const SOURCE = Symbol('ClickHouseSource');
export const CLOCK = Symbol('Clock');

/** Time, injectable so scheduler tests can move it. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
