/**
 * `host:port` addresses (a collector, the controller's ports): a DNS name or IPv4 address, or an
 * IPv6 address in brackets, then a port from 1 to 65535. The one reader of the form, for values
 * and flags alike.
 */

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/;

/** The host (IPv6 without its brackets) and port of `value`, or undefined when it is not host:port. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = HOST_PORT.exec(value);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  if (m[2] && host.split('.').some((label) => label === '' || label.length > 63)) return undefined;
  return { host, port };
}
