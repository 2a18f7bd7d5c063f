import { randomBytes } from 'node:crypto';
import { parseSecretKey, SecretBox } from '../../src/store/secrets';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips and never stores the plaintext', () => {
    const sealed = box.encrypt({ password: 'hunter2-ünïcode-🔑' });
    expect(sealed.startsWith('v1:')).toBe(true);
    expect(sealed).not.toContain('hunter2');
    expect(box.decrypt(sealed)).toEqual({ password: 'hunter2-ünïcode-🔑' });
  });

  it('uses a fresh IV per value', () => {
    expect(box.encrypt({ a: 1 })).not.toBe(box.encrypt({ a: 1 }));
  });

  it('refuses tampered ciphertext and the wrong key with a clear error', () => {
    const sealed = box.encrypt({ a: 1 });
    const raw = Buffer.from(sealed.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    expect(() => box.decrypt('v1:' + raw.toString('base64'))).toThrow(/OUTPORT_SECRET_KEY/);
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed)).toThrow(/OUTPORT_SECRET_KEY/);
  });

  it('parses hex and base64 keys and rejects short ones', () => {
    const k = randomBytes(32);
    expect(parseSecretKey(k.toString('hex')).equals(k)).toBe(true);
    expect(parseSecretKey(k.toString('base64')).equals(k)).toBe(true);
    expect(() => parseSecretKey('abcd')).toThrow(/32/);
  });
});
