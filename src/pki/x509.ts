/**
 * The one place that loads @peculiar/x509: installs the Reflect shim it needs first and points it
 * at node's WebCrypto. Other modules import `x509` from here, never from '@peculiar/x509'.
 */
import './reflect-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

/** The @peculiar/x509 namespace, ready to use (shim loaded, WebCrypto provider set). */
export { x509 };
/** WebCrypto's SubtleCrypto, typed as the DOM-style global the x509 library expects. */
export const subtle: webcrypto.SubtleCrypto = webcrypto.subtle;
