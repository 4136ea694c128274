/**
 * Types for parse-prometheus-text-format 1.1 (the package ships none; only test/stat/prom-text.test.ts
 * uses it now, as the reference src/metrics/prom-text.ts must agree with). It returns prom2json-style
 * families; numbers stay strings. See src/metrics/prometheus.ts for the quirks we work around.
 */
declare module 'parse-prometheus-text-format' {
  export interface PromSample {
    value?: string;
    labels?: Record<string, string>;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export interface PromFamily {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: PromSample[];
  }
  /** Throws on a malformed line. */
  export default function parsePrometheusTextFormat(text: string): PromFamily[];
}
