// Who may use an HTTP listener, decided from the request's headers alone (so before any body is
// read): the interpreter's --http and the daemon's gateway share these rules. A listener on a
// loopback address serves this machine; any other address needs a bearer token. Host and Origin
// must be the listener's own (DNS rebinding, web pages on other sites); bodies are bounded.
import * as Crypto from "node:crypto"
import * as Net from "node:net"

/** What one listener admits, fixed at start. */
export interface AccessPolicy {
  /** The address it listens on, as given: an IP, a name, or a wildcard (0.0.0.0, ::). */
  readonly host: string
  /** SHA-256 of the bearer token every request must carry; undefined: none asked. The token itself is not kept. */
  readonly tokenDigest: Buffer | undefined
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number
}

/** A request turned away: the status, a one-line reason for the client, and headers to send. */
export interface Refusal {
  readonly status: 401 | 403 | 413 | 421
  readonly message: string
  readonly headers: Readonly<Record<string, string>>
}

/** The headers of a request, as node:http gives them. */
export type RequestHeaders = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** Lower case, without IPv6 brackets; an IPv6 address in its canonical form. */
const canonical = (host: string): string => {
  const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1")
  if (!Net.isIPv6(bare)) return bare
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1)
  } catch {
    return bare // with a zone (fe80::1%eth0): not a URL host
  }
}

/** 127.0.0.0/8, ::1 (or 127.x.x.x mapped into IPv6) and localhost: only this machine can connect. */
export const isLoopbackHost = (host: string): boolean => {
  const name = canonical(host)
  return name === "localhost" || name === "::1" || (Net.isIPv4(name) && name.startsWith("127.")) ||
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(name)
}

/** Every address of the machine: the listener has no one name a client must use. */
export const isWildcardHost = (host: string): boolean => ["", "0.0.0.0", "::"].includes(canonical(host))

/** `host:port` as in a Host header or a URL (IPv6 in brackets). */
export const hostPort = (host: string, port: number): string => {
  const name = canonical(host)
  return Net.isIPv6(name) ? `[${name}]:${port}` : `${name}:${port}`
}

/** The Host headers a listener answers to; undefined for a wildcard listener (any: its token guards it). */
export const allowedHosts = (host: string, port: number): ReadonlyArray<string> | undefined => {
  if (isWildcardHost(host)) return undefined
  const names = isLoopbackHost(host) ? [host, "localhost", "127.0.0.1", "::1"] : [host]
  const hosts = Array.from(new Set(names.map((name) => hostPort(name, port))))
  // browsers and curl leave out the default port
  return port === 80 ? [...hosts, ...hosts.map((h) => h.slice(0, -":80".length))] : hosts
}

/** The listener's own origins: http:// and each Host it answers to (for a wildcard one, the request's own Host). */
export const allowedOrigins = (host: string, port: number, requestHost: string | undefined): ReadonlyArray<string> =>
  (allowedHosts(host, port) ?? (requestHost === undefined ? [] : [requestHost.toLowerCase()])).map((h) => `http://${h}`)

export const tokenDigest = (token: string): Buffer => Crypto.createHash("sha256").update(token, "utf8").digest()

/** Whether `Authorization: Bearer <token>` carries the token; digests of equal length compared in constant time. */
export const bearerMatches = (digest: Buffer, authorization: string | undefined): boolean => {
  const given = /^Bearer +(.+)$/i.exec(authorization?.trim() ?? "")?.[1]
  return given !== undefined && Crypto.timingSafeEqual(tokenDigest(given.trim()), digest)
}

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : value?.[0]

/** 413: the body (announced, or counted while it streams) is over the bound. */
export const bodyTooLarge = (policy: AccessPolicy): Refusal => ({
  status: 413,
  message: `request body over ${policy.maxBodyBytes} bytes: refused`,
  headers: {}
})

/**
 * Why a request to the listener on `port` is refused, or undefined when it may be served. Checked
 * in this order: Host (421), Origin (403), bearer token (401), announced Content-Length (413).
 * No Origin header is fine: it is what non-browser clients send.
 */
export const refusal = (policy: AccessPolicy, port: number, headers: RequestHeaders): Refusal | undefined => {
  const host = single(headers["host"])
  const hosts = allowedHosts(policy.host, port)
  if (hosts !== undefined && (host === undefined || !hosts.includes(host.toLowerCase()))) {
    return {
      status: 421,
      message: `Host ${host ?? "(none)"} is not this server's address (${hosts.join(", ")}): refused against DNS rebinding`,
      headers: {}
    }
  }
  const origin = single(headers["origin"])
  const origins = allowedOrigins(policy.host, port, host)
  if (origin !== undefined && !origins.includes(origin.toLowerCase())) {
    return { status: 403, message: `Origin ${origin} may not use this server (allowed: ${origins.join(", ")})`, headers: {} }
  }
  if (policy.tokenDigest !== undefined) {
    const authorization = single(headers["authorization"])
    if (!bearerMatches(policy.tokenDigest, authorization)) {
      return authorization === undefined
        ? { status: 401, message: "this server needs Authorization: Bearer <token>", headers: { "www-authenticate": `Bearer realm="mcp"` } }
        : { status: 401, message: "wrong bearer token", headers: { "www-authenticate": `Bearer realm="mcp", error="invalid_token"` } }
    }
  }
  const length = Number(single(headers["content-length"]) ?? 0)
  return length > policy.maxBodyBytes ? bodyTooLarge(policy) : undefined
}
