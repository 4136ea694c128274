/**
 * An Envoy message as plain JSON-shaped data: snake_case field names as in Envoy's docs, Duration
 * as `{seconds, nanos}`, and Any-typed fields as `{'@type': URL, ...fields}`. `encode.ts` turns it
 * into protobuf bytes against the shipped .proto files.
 */
export type Msg = { [key: string]: unknown };

/** Duration message from milliseconds. */
export function duration(ms: number): Msg {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}
