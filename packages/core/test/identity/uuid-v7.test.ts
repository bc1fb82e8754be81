import { describe, expect, it } from 'vitest';
import { isUuid, uuidV7 } from '../../src/index.js';

// A frozen clock: every timestamp below is a literal, never Date.now().
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0, 123); // 1767225600123 = 0x019b76daa87b
const ZEROS = new Uint8Array(10);
const ONES = new Uint8Array(10).fill(0xff);

function bytesOf(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

describe('uuidV7', () => {
  it('lays out 48-bit big-endian milliseconds, then version 7, then the variant, then randomness', () => {
    expect(T0.toString(16)).toBe('19b76daa87b');
    expect(uuidV7(T0, ZEROS)).toBe('019b76da-a87b-7000-8000-000000000000');
    expect(uuidV7(T0, ONES)).toBe('019b76da-a87b-7fff-bfff-ffffffffffff');
  });

  it('sets version and RFC 9562 variant bits whatever the random bytes', () => {
    for (let i = 0; i < 256; i++) {
      const random = new Uint8Array(10).fill(i);
      const id = uuidV7(T0 + i, random);
      const b = bytesOf(id);
      expect(isUuid(id)).toBe(true);
      expect((b[6] ?? 0) >> 4).toBe(7);
      expect((b[8] ?? 0) >> 6).toBe(0b10);
      // the random bits that are not overwritten survive
      expect(b[15]).toBe(i);
      expect((b[6] ?? 0) & 0x0f).toBe(i & 0x0f);
    }
  });

  it('embeds the clock value it is given, not the wall clock', () => {
    const id = uuidV7(0, ZEROS);
    expect(id).toBe('00000000-0000-7000-8000-000000000000');
    const b = bytesOf(uuidV7(T0, ZEROS));
    let ms = 0;
    for (let i = 0; i < 6; i++) ms = ms * 256 + (b[i] ?? 0);
    expect(ms).toBe(T0);
  });

  it('floors fractional milliseconds and clamps negative clocks to 0', () => {
    expect(uuidV7(T0 + 0.9, ZEROS)).toBe(uuidV7(T0, ZEROS));
    expect(uuidV7(-5, ZEROS)).toBe('00000000-0000-7000-8000-000000000000');
  });

  it('sorts by time as text: a later millisecond sorts after, whatever the random bits', () => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      // worst case for ordering: each later id has smaller random bytes than the one before
      ids.push(uuidV7(T0 + i, new Uint8Array(10).fill(255 - i)));
    }
    expect([...ids].sort()).toEqual(ids);
    // across a byte boundary of the timestamp (…ff → …00 carry)
    expect(uuidV7(0xff_ff, ONES) < uuidV7(0x1_00_00, ZEROS)).toBe(true);
  });

  it('uses the first 10 random bytes and refuses fewer', () => {
    const twelve = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    expect(uuidV7(T0, twelve)).toBe(uuidV7(T0, twelve.subarray(0, 10)));
    expect(() => uuidV7(T0, new Uint8Array(9))).toThrow(RangeError);
  });

  it('does not mutate the caller’s random bytes', () => {
    const random = new Uint8Array(10).fill(0xff);
    uuidV7(T0, random);
    expect(random).toEqual(ONES);
  });
});
