import { X509Certificate } from 'node:crypto';
import { inputError } from '../errors.js';

/** Every `-----BEGIN <label>-----` … `-----END <label>-----` block in `text`, in order (labels given as a regexp source). */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN (${label})-----[\\s\\S]*?-----END \\1-----`, 'g');
  return text.match(re) ?? [];
}

/**
 * Parse every certificate in a PEM text (a single certificate or a chain, leaf first).
 * Throws inputError naming `source` when there is no certificate block or one does not parse;
 * the message never quotes the input (it might be a key pasted by mistake).
 */
export function parseCertificates(pem: string, source: string): X509Certificate[] {
  const blocks = pemBlocks(pem, 'CERTIFICATE');
  if (blocks.length === 0) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      throw inputError(`${source} holds a private key, not a certificate`, 'pass the certificate here and the key as the key (were the two swapped?)');
    }
    throw inputError(`${source} is not a PEM-encoded certificate`, 'expected a BEGIN CERTIFICATE block; convert DER with: openssl x509 -inform der -in FILE -out FILE.pem');
  }
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      const which = blocks.length > 1 ? `certificate #${i + 1} in ${source}` : source;
      throw inputError(`${which} cannot be parsed as an X.509 certificate`, 'check that the file is intact: openssl x509 -in FILE -noout -text', err);
    }
  });
}

/** The first certificate of a PEM text (see parseCertificates). */
export function parseCertificate(pem: string, source = 'certificate'): X509Certificate {
  return parseCertificates(pem, source)[0] as X509Certificate;
}
