// A reproducible corpus of random and malformed frames for the control socket, grouped by how the
// daemon must react, and the connections that carry them.

/** Small seeded PRNG (mulberry32): the same seed gives the same corpus. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * What the daemon must do with a connection's frames:
 * - `closed`: the connection is closed (a line that is not JSON, over 1 MiB, or not a protocol message);
 * - `refused`: each frame gets an error answer (Exit failure or Defect), and a valid request
 *   sent afterwards on the same connection is still answered;
 * - `answered`: odd but valid framing; every request gets its success answer.
 */
export type Expectation = "closed" | "refused" | "answered"

/** Bytes to write, or a pause until the answer to a request id arrived. */
export type Step = string | Buffer | { readonly awaitAnswer: string }

export interface JunkConnection {
  readonly kind: string
  readonly frames: ReadonlyArray<Step>
  readonly expect: Expectation
  /** Request ids whose answers must arrive (for `answered`). */
  readonly answers?: ReadonlyArray<string>
  /** Frames that count toward the corpus (split writes of one frame count once). */
  readonly count: number
}

const line = (value: unknown) => JSON.stringify(value) + "\n"
const request = (id: string, tag: string, payload: unknown) => ({ _tag: "Request", id, tag, payload, headers: [] })
const mib16 = 16 * 1024 * 1024

export const junkCorpus = (seed: number, servers: { readonly follow: string }): ReadonlyArray<JunkConnection> => {
  const random = seededRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  const out: Array<JunkConnection> = []

  // 300 × binary noise; the first byte can never start JSON, so the line never parses
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.from(Array.from({ length: 1 + int(600) }, () => int(256)))
    bytes[0] = 0x80 + int(0x80)
    out.push({ kind: "binary noise", frames: [Buffer.concat([bytes, Buffer.from("\n")])], expect: "closed", count: 1 })
  }

  // 150 × a valid request cut short
  const whole = JSON.stringify(request("1", "Logs", { target: servers.follow, lines: 5, follow: false }))
  for (let i = 0; i < 150; i++) {
    out.push({ kind: "truncated JSON", frames: [whole.slice(0, 1 + int(whole.length - 1)) + "\n"], expect: "closed", count: 1 })
  }

  // 150 × JSON that is not a protocol message
  const notMessages: ReadonlyArray<unknown> = [
    null, 42, "Status", [], [request("1", "Status", {})], true, {}, { _tag: "Bogus" }, { _tag: "Request" },
    { ...request("1", "Status", {}), id: 5 }, { ...request("1", "Status", {}), id: "abc" }, { ...request("1", "Status", {}), id: "" },
    { ...request("1", "Status", {}), id: "-1" }, { ...request("1", "Status", {}), id: "1.5" }, { ...request("1", "Status", {}), id: null },
    { ...request("1", "Status", {}), id: {} }, { ...request("1", "Status", {}), id: "9".repeat(5000) },
    { ...request("1", "Status", {}), headers: "x" }, { ...request("1", "Status", {}), headers: [[1, 2]] }, { ...request("1", "Status", {}), headers: {} },
    { ...request("1", "Status", {}), tag: 42 }, { _tag: "Ack", requestId: "x" }, { _tag: "Interrupt", requestId: null }, { _tag: "Ack" },
    JSON.parse("{\"__proto__\": {\"polluted\": true}, \"_tag\": \"Request\"}")
  ]
  for (let i = 0; i < 145; i++) out.push({ kind: "JSON that is not a protocol message", frames: [line(notMessages[i % notMessages.length])], expect: "closed", count: 1 })
  for (let i = 0; i < 5; i++) {
    const depth = 10_000 * (i + 1)
    out.push({ kind: "JSON that is not a protocol message", frames: ["[".repeat(depth) + "]".repeat(depth) + "\n"], expect: "closed", count: 1 })
  }

  // 100 × unknown request tags, 5 on each connection, then a valid request
  const unknownTags = ["Nope", "__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "status", "Status ", "", "Restart\u0000", "💥"]
  for (let c = 0; c < 20; c++) {
    const frames = Array.from({ length: 5 }, (_, i) => line(request(String(100 + i), i === 0 ? unknownTags[c % unknownTags.length]! : pick(unknownTags), {})))
    out.push({ kind: "unknown request tags", frames, expect: "refused", count: 5 })
  }

  // 200 × wrong payload types, 5 on each connection, then a valid request
  const badTargets: ReadonlyArray<unknown> = [42, null, true, [], {}, -1, 1.5, ["a"], { target: "a" }]
  const badPayloads: ReadonlyArray<() => [string, unknown]> = [
    () => [pick(["Restart", "Start", "Stop"]), { target: pick(badTargets) }],
    () => [pick(["Restart", "Start", "Stop", "Logs"]), pick([null, "x", [], 42, true])],
    () => ["Restart", undefined],
    () => ["Logs", { target: servers.follow, lines: pick(["10", -1, 100_001, 1.5, 1e308, null]) }],
    () => ["Logs", { target: servers.follow, follow: pick(["yes", 1, null, {}]) }],
    () => ["Logs", { target: pick(badTargets) }]
  ]
  for (let c = 0; c < 40; c++) {
    const frames = Array.from({ length: 5 }, (_, i) => {
      const [tag, payload] = pick(badPayloads)()
      return line(request(String(200 + i), tag, payload))
    })
    out.push({ kind: "wrong payload types", frames, expect: "refused", count: 5 })
  }

  // 4 × 16 MiB lines: junk, a valid-looking request with a 16 MiB target, 16 MiB of newlines, no newline at all
  out.push({ kind: "16 MiB lines", frames: [Buffer.alloc(mib16, 0x61), "\n"], expect: "closed", count: 1 })
  out.push({ kind: "16 MiB lines", frames: [line(request("1", "Restart", { target: "x".repeat(mib16) }))], expect: "closed", count: 1 })
  out.push({ kind: "16 MiB lines", frames: [Buffer.alloc(mib16, 0x0a)], expect: "closed", count: 1 })
  out.push({ kind: "16 MiB lines", frames: [Buffer.alloc(mib16, 0x7b)], expect: "closed", count: 1 })

  // 50 × a request id reused: after its answer (fine), or while the first is still streaming (not)
  for (let c = 0; c < 25; c++) {
    out.push({
      kind: "request ids reused",
      frames: [line(request("7", "Status", {})), { awaitAnswer: "7" }, line(request("7", "Status", {}))],
      expect: "answered",
      answers: ["7", "7"],
      count: 1
    })
    out.push({
      kind: "request ids reused",
      frames: [line(request("9", "Logs", { target: servers.follow, lines: 0, follow: true })), line(request("9", "Status", {}))],
      expect: "closed",
      count: 1
    })
  }

  // 46 × odd framing: byte-by-byte, many per write, CRLF, a valid request with junk after it on the line
  const valid = (id: string) => line(request(id, "Status", {}))
  for (let c = 0; c < 10; c++) {
    out.push({ kind: "odd framing", frames: [...valid(String(300 + c))].map((ch) => ch), expect: "answered", answers: [String(300 + c)], count: 1 })
  }
  for (let c = 0; c < 10; c++) {
    const ids = Array.from({ length: 2 }, (_, i) => String(400 + c * 10 + i))
    out.push({ kind: "odd framing", frames: [ids.map(valid).join("")], expect: "answered", answers: ids, count: 2 })
  }
  for (let c = 0; c < 6; c++) {
    out.push({ kind: "odd framing", frames: [valid(String(500 + c)).replace("\n", "\r\n")], expect: "answered", answers: [String(500 + c)], count: 1 })
  }
  for (let c = 0; c < 10; c++) {
    out.push({ kind: "odd framing", frames: [valid("600").replace("\n", pick(["garbage", "}", "{}", " 1"]) + "\n")], expect: "closed", count: 1 })
  }
  return out
}
