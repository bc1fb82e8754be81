// ECDSA signatures are malleable: for a valid (r, s), (r, n − s) verifies too. Tessera's tokens take one form only,
// the "low-S" one (s ≤ n/2, as Bitcoin's BIP 62 and libsecp256k1 have it), so a token has exactly one valid spelling.
// Byte arithmetic on the IEEE P1363 form (r ‖ s, 32 bytes each for P-256): no BigInt, no allocation.

/** The order n of the P-256 group, big-endian. */
const P256_ORDER = hexBytes('ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
/** ⌊n / 2⌋, big-endian: the largest low-S value. */
const P256_HALF_ORDER = hexBytes('7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8');
/** Bytes of `r` and of `s` in a P-256 signature. */
const SCALAR_BYTES = 32;

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * True when a 64-byte P-256 signature (IEEE P1363 `r ‖ s`) has s > n/2, the form a low-S verifier refuses; false for
 * low-S signatures and for anything that is not 64 bytes (those fail verification on their own).
 */
export function isHighS(signature: Uint8Array): boolean {
  if (signature.length !== 2 * SCALAR_BYTES) return false;
  for (let i = 0; i < SCALAR_BYTES; i++) {
    const s = signature[SCALAR_BYTES + i] as number;
    const half = P256_HALF_ORDER[i] as number;
    if (s !== half) return s > half;
  }
  return false; // s = ⌊n/2⌋ is low
}

/**
 * Rewrites a 64-byte P-256 signature in place into its low-S twin (s → n − s) when s > n/2, and returns it. Both
 * verify for the same key and input; only the low one is Tessera's canonical form.
 */
export function toLowS(signature: Uint8Array): Uint8Array {
  if (!isHighS(signature)) return signature;
  let borrow = 0;
  for (let i = SCALAR_BYTES - 1; i >= 0; i--) {
    const at = SCALAR_BYTES + i;
    let d = (P256_ORDER[i] as number) - (signature[at] as number) - borrow;
    borrow = d < 0 ? 1 : 0;
    if (d < 0) d += 256;
    signature[at] = d;
  }
  return signature;
}
