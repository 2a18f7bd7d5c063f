/** Process logs: JSON lines for collectors, one readable line per entry in a terminal or with LOG_FORMAT=pretty. */
import { Writable } from 'node:stream';
import { createLogger, prettyLine } from '../src/logger';

function capture(isTTY: boolean): Writable & { text(): string } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  }) as Writable & { text(): string; isTTY?: boolean };
  out.isTTY = isTTY;
  out.text = () => text;
  return out;
}

describe('createLogger', () => {
  it('writes readable lines to a terminal: time, level, message, then fields as key=value', () => {
    const out = capture(true);
    createLogger('info', 'outport', 'auto', out).info({ team: 1, run: 'r-1', rows: 5000, note: 'two words' }, 'Completed: 5000 rows');
    expect(out.text()).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  Completed: 5000 rows {2}team=1 run=r-1 rows=5000 note="two words"\n$/);
  });

  it('writes JSON lines when stdout is not a terminal, and when LOG_FORMAT=json in one', () => {
    for (const [isTTY, format] of [[false, 'auto'], [true, 'json']] as const) {
      const out = capture(isTTY);
      createLogger('info', 'outport', format, out).warn({ export: 'e-1' }, 'paused');
      expect(JSON.parse(out.text())).toMatchObject({ level: 40, export: 'e-1', msg: 'paused', name: 'outport' });
    }
  });

  it('LOG_FORMAT=pretty is readable without a terminal; secrets stay redacted', () => {
    const out = capture(false);
    createLogger('debug', 'outport', 'pretty', out).error({ config: { password: 'hunter2' }, err: { message: 'boom', stack: 'Error: boom\n    at x' } }, 'failed');
    expect(out.text()).toContain('ERROR failed');
    expect(out.text()).not.toContain('hunter2');
    expect(out.text()).toContain('\n    Error: boom\n        at x');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text\n')).toBe('plain text\n');
  });
});
