/** Snowflake error responses, with the codes and SQL states the real service uses for the same situations. */

export class SnowflakeFault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly sqlState = '02000',
  ) {
    super(message);
  }
}

export const faults = {
  badCredentials: () => new SnowflakeFault('390100', 'Incorrect username or password was specified.', '08004'),
  badJwt: (why: string) => new SnowflakeFault('390144', `JWT token is invalid. [${why}]`, '08004'),
  doesNotExist: (kind: string, name: string) =>
    new SnowflakeFault('002003', `SQL compilation error:\n${kind} '${name}' does not exist or not authorized.`, '02000'),
  noWarehouse: () =>
    new SnowflakeFault(
      '000606',
      "No active warehouse selected in the current session.  Select an active warehouse with the 'use warehouse' command.",
      '57P03',
    ),
  warehouseSuspended: (name: string) =>
    new SnowflakeFault('000608', `Warehouse '${name}' is suspended.  Use 'alter warehouse ${name} resume;' command if you need to use it again.`, '57P03'),
  timeout: (seconds: number) =>
    new SnowflakeFault('000630', `Statement reached its statement or warehouse timeout of ${seconds} second(s) and was canceled.`, '57014'),
  invalidIdentifier: (msg: string) => new SnowflakeFault('000904', `SQL compilation error: ${msg}`, '42000'),
  unsupported: (sql: string) =>
    new SnowflakeFault('001003', `SQL compilation error:\nsyntax error: the fake Snowflake does not support this statement: ${sql.slice(0, 120)}`, '42000'),
  sessionGone: () => new SnowflakeFault('390111', 'Session no longer exists.  New login required to access the service.', '08001'),
};
