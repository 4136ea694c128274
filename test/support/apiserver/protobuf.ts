// kubectl's typed clients (auth can-i, create configmap/secret/namespace...) send protobuf
// bodies ("application/vnd.kubernetes.protobuf"). This decodes the k8s envelope and the few
// messages those commands send into the JSON shape; anything else is a 415, which says so.
import { withCode } from './errors.ts';

type Obj = Record<string, unknown>;
/** A field: its JSON name and type ("string", "int", "bool", "bytes", a message name, "map:<v>", "[]<t>"). */
type Schema = Record<number, [string, string]>;

const MESSAGES: Record<string, Schema> = {
  ObjectMeta: { 1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 11: ['labels', 'map:string'], 12: ['annotations', 'map:string'], 14: ['finalizers', '[]string'] },
  SelfSubjectAccessReview: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'SelfSubjectAccessReviewSpec'] },
  SelfSubjectAccessReviewSpec: { 1: ['resourceAttributes', 'ResourceAttributes'], 2: ['nonResourceAttributes', 'NonResourceAttributes'] },
  ResourceAttributes: { 1: ['namespace', 'string'], 2: ['verb', 'string'], 3: ['group', 'string'], 4: ['version', 'string'], 5: ['resource', 'string'], 6: ['subresource', 'string'], 7: ['name', 'string'] },
  NonResourceAttributes: { 1: ['path', 'string'], 2: ['verb', 'string'] },
  SelfSubjectRulesReview: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'SelfSubjectRulesReviewSpec'] },
  SelfSubjectRulesReviewSpec: { 1: ['namespace', 'string'] },
  SelfSubjectReview: { 1: ['metadata', 'ObjectMeta'] },
  TokenReview: { 1: ['metadata', 'ObjectMeta'], 2: ['spec', 'TokenReviewSpec'] },
  TokenReviewSpec: { 1: ['token', 'string'], 2: ['audiences', '[]string'] },
  ConfigMap: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'map:string'], 3: ['binaryData', 'map:bytes'], 4: ['immutable', 'bool'] },
  Secret: { 1: ['metadata', 'ObjectMeta'], 2: ['data', 'map:bytes'], 3: ['type', 'string'], 4: ['stringData', 'map:string'], 5: ['immutable', 'bool'] },
  Namespace: { 1: ['metadata', 'ObjectMeta'] },
  ServiceAccount: { 1: ['metadata', 'ObjectMeta'], 4: ['automountServiceAccountToken', 'bool'] },
  DeleteOptions: { 1: ['gracePeriodSeconds', 'int'], 3: ['orphanDependents', 'bool'], 4: ['propagationPolicy', 'string'], 5: ['dryRun', '[]string'] },
  TypeMeta: { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] },
  Unknown: { 1: ['typeMeta', 'TypeMeta'], 2: ['raw', 'bytes'], 3: ['contentEncoding', 'string'], 4: ['contentType', 'string'] },
  MapEntry: { 1: ['key', 'string'], 2: ['value', 'raw'] },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new Error('truncated varint');
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const n = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decode(buf: Buffer, message: string): Obj {
  const schema = MESSAGES[message]!;
  const out: Obj = {};
  const r = new Reader(buf);
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = schema[field];
    if (!f) {
      r.skip(wire);
      continue;
    }
    const [name, type] = f;
    if (type.startsWith('map:')) {
      const entry = decode(r.bytes(), 'MapEntry');
      const raw = entry.value as Buffer | undefined;
      const m = (out[name] ??= {}) as Obj;
      m[String(entry.key ?? '')] = type === 'map:bytes' ? (raw ?? Buffer.alloc(0)).toString('base64') : (raw ?? Buffer.alloc(0)).toString('utf8');
    } else if (type.startsWith('[]')) {
      ((out[name] ??= []) as unknown[]).push(value(r, wire, type.slice(2)));
    } else out[name] = value(r, wire, type);
  }
  return out;
}

function value(r: Reader, wire: number, type: string): unknown {
  if (type === 'int') return r.varint();
  if (type === 'bool') return r.varint() !== 0;
  if (wire !== 2) {
    r.skip(wire);
    return undefined;
  }
  const b = r.bytes();
  if (type === 'string') return b.toString('utf8');
  if (type === 'bytes' || type === 'raw') return Buffer.from(b);
  return decode(b, type);
}

/** Decode a "k8s\0"-enveloped protobuf body into the JSON object it stands for. */
export function decodeProtobuf(body: Buffer): Obj {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw withCode(415, 'protobuf body without the k8s envelope');
  const u = decode(body.subarray(4), 'Unknown');
  const tm = (u.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const kind = tm.kind ?? '';
  if (!MESSAGES[kind] || kind === 'Unknown' || kind === 'TypeMeta' || kind === 'MapEntry') {
    throw withCode(415, `the test API server cannot decode protobuf for kind "${kind}"; send JSON`);
  }
  return { apiVersion: tm.apiVersion, kind, ...decode((u.raw as Buffer | undefined) ?? Buffer.alloc(0), kind) };
}
