import { createPrivateKey, KeyObject, type webcrypto } from 'node:crypto';
import { inspect } from 'node:util';
import { inputError } from '../errors.js';
import { pemBlocks } from './pem.js';
import { subtle } from './x509.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcdsaParams = webcrypto.EcdsaParams;
type Algorithm = webcrypto.Algorithm;
type EcKeyImportParams = webcrypto.EcKeyImportParams;
type RsaHashedImportParams = webcrypto.RsaHashedImportParams;

/**
 * Key handling. Private keys live as PEM strings only where the caller must store them (a Secret,
 * a workload's memory) and are attached to results as a hidden property (see withPrivateKey).
 * Keys we sign with are imported as non-extractable WebCrypto keys.
 */

/** A key algorithm we accept, with the WebCrypto parameters to import and sign with it. */
export interface KeyKind {
  /** Human name, e.g. "ECDSA P-256". */
  name: string;
  importAlg: EcKeyImportParams | RsaHashedImportParams;
  signAlg: EcdsaParams | Algorithm;
}

const KINDS: Record<string, KeyKind> = {
  prime256v1: { name: 'ECDSA P-256', importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams },
  secp384r1: { name: 'ECDSA P-384', importAlg: { name: 'ECDSA', namedCurve: 'P-384' }, signAlg: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams },
};
const RSA: KeyKind = {
  name: 'RSA',
  importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  signAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
};
/** Supported key types, for hints. */
export const SUPPORTED_KEYS = 'ECDSA P-256, ECDSA P-384 or RSA (2048 bits or more)';

/** Describe a key's type, or undefined if we do not sign with / issue for that type. */
export function keyKind(key: KeyObject): KeyKind | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') return d.namedCurve ? KINDS[d.namedCurve] : undefined;
  if (key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) >= 2048) return { ...RSA, name: `RSA ${d.modulusLength}` };
  return undefined;
}

/** Human name of any key type, for error messages ("Ed25519", "RSA 1024", "EC secp521r1"). */
export function keyTypeName(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      return `EC ${d.namedCurve ?? 'unknown curve'}`;
    case 'rsa':
      return `RSA ${d.modulusLength ?? '?'}`;
    case 'ed25519':
      return 'Ed25519';
    default:
      return key.asymmetricKeyType ?? 'unknown';
  }
}

/**
 * Parse a PEM private key (PKCS#8, SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY").
 * Throws inputError naming `source`; never echoes the input.
 */
export function parsePrivateKey(pem: string, source: string): KeyObject {
  const blocks = pemBlocks(pem, '[A-Z ]*PRIVATE KEY');
  if (blocks.length === 0) {
    if (/-----BEGIN CERTIFICATE-----/.test(pem)) {
      throw inputError(`${source} holds a certificate, not a private key`, 'pass the private key here and the certificate as the certificate (were the two swapped?)');
    }
    throw inputError(`${source} is not a PEM-encoded private key`, 'expected a PKCS#8, SEC1 or PKCS#1 PEM key; convert DER with: openssl pkey -inform der -in FILE -out FILE.pem');
  }
  if (blocks.length > 1) throw inputError(`${source} holds ${blocks.length} private keys; expected one`, 'keep only the CA key in the file');
  const block = blocks[0] as string;
  if (block.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type: 4,ENCRYPTED/.test(block)) {
    throw inputError(`${source} is encrypted with a passphrase`, 'decrypt it first: openssl pkey -in FILE -out FILE.plain (and keep that file safe)');
  }
  try {
    return createPrivateKey(block);
  } catch (err) {
    throw inputError(`${source} cannot be parsed as a private key`, 'check that the file is intact: openssl pkey -in FILE -noout', redactCause(err));
  }
}

/** A cause safe to keep: only the library's message, never key bytes. */
function redactCause(err: unknown): Error {
  return new Error(err instanceof Error ? err.message.replace(/-----BEGIN[\s\S]*?-----END[^-]*-----/g, '[redacted]') : 'parse error');
}

/** Import a private KeyObject as a non-extractable WebCrypto signing key. */
export async function importSigningKey(key: KeyObject, kind: KeyKind): Promise<CryptoKey> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  return subtle.importKey('pkcs8', der, kind.importAlg, false, ['sign']);
}

/** A fresh ECDSA P-256 key pair (extractable, so the private half can be exported once as PEM). */
export async function generateP256(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** PKCS#8 PEM of an extractable private key. */
export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

/** The ECDSA P-256 signing parameters used for every key we generate. */
export const P256_SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

/**
 * Attach `keyPem` to `obj` as a read-only, non-enumerable property, so that JSON.stringify,
 * util.inspect, console.log and object spread never carry it; read it explicitly as `obj.keyPem`.
 */
export function withPrivateKey<T extends object>(obj: T, keyPem: string): T & { readonly keyPem: string } {
  Object.defineProperty(obj, 'keyPem', { value: keyPem, enumerable: false, writable: false, configurable: false });
  Object.defineProperty(obj, inspect.custom, {
    value(this: T) {
      return { ...this, keyPem: '[redacted]' };
    },
    enumerable: false,
  });
  return obj as T & { readonly keyPem: string };
}
