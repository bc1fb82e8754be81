import { TesseraError } from '../errors.js';
import { isHighS } from './ecdsa-low-s.js';
import { LOW_S_TOKEN_CONTRACT_VERSION } from './claims.js';

/**
 * Refuses a token whose ES256 signature is not in Tessera's one valid form: from contract version
 * {@link LOW_S_TOKEN_CONTRACT_VERSION} on, `s` must be low (s ≤ n/2). Tokens of older versions keep being accepted
 * either way, so none minted before an upgrade breaks while it lives. Throws `ERR_TOKEN_BAD_SIGNATURE`.
 */
export function checkSignatureForm(tsv: number, signature: Uint8Array): void {
  if (tsv >= LOW_S_TOKEN_CONTRACT_VERSION && isHighS(signature)) {
    throw new TesseraError(
      'ERR_TOKEN_BAD_SIGNATURE',
      'The token signature is not in its canonical form (ECDSA low-S), which its contract version requires.',
    );
  }
}
