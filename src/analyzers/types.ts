import type { KubeObject } from '../cluster/types.js';

/** Severity of a finding. `info` findings never fail a run; --output-threshold hides them. */
export type FindingSeverity = 'error' | 'warning' | 'info';

/** The object a finding is about. */
export interface ResourceRef {
  kind: string;
  namespace?: string;
  name: string;
}

/** Where an object came from, when it was read from a file. */
export interface SourceLocation {
  file: string;
  /** 1-based line where the object's document starts. */
  line: number;
}

/** One coded policy finding (istioctl analyze style). Field names are stable (`-o json`). */
export interface Finding {
  /** MSHnnnn, documented in docs/checks.md#mshnnnn. */
  code: string;
  severity: FindingSeverity;
  message: string;
  resource: ResourceRef;
  file?: string;
  line?: number;
}

/** A documented finding code. */
export interface FindingCode {
  code: string;
  severity: FindingSeverity;
  /** Short title, e.g. "HTTPRoute parent Service not found". */
  title: string;
  /** What to do about it, one line. */
  hint: string;
}

/** An object to analyze, with its file and line when it came from -f. */
export interface SourcedObject {
  object: KubeObject;
  location?: SourceLocation;
}

/**
 * An analyzer: pure, takes the indexed objects and returns findings. The same analyzer runs on
 * live objects (no locations) and on files (with locations).
 */
export interface Analyzer<I> {
  /** Name shown in docs and debug output. */
  name: string;
  /** The codes it can emit (each documented in docs/checks.md). */
  codes: readonly FindingCode[];
  analyze(index: I): Finding[];
}
