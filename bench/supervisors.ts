// Figures 1–6: mcp-manager against supervisord, PM2 and the floor, interleaved on one machine.
import * as Path from "node:path"
import { allContenders, type Contender } from "./contenders.js"
import { type Row, row } from "./results.js"
import { childProgram, cpuSeconds, median, monotonicNs, type Program, Reports, rssMb, run, runDir, sleep, waitFor } from "./support.js"

export interface Plan {
  readonly quick: boolean
  /** Figure groups to run: restart, control, scale, crash (supervisors) and interpreter; all when empty. */
  readonly only: ReadonlyArray<string>
  readonly log: (line: string) => void
}

/** Round r visits the contenders in a rotated order, so none is always first or last. */
const rotate = <A>(xs: ReadonlyArray<A>, r: number) => xs.map((_, i) => xs[(i + r) % xs.length]!)

const floorOf = (samples: Map<string, Array<number>>) => median(samples.get("floor") ?? [])

const programs = (reports: Reports, count: number, crash = false): ReadonlyArray<Program> =>
  Array.from({ length: count }, (_, i) => childProgram(reports.file, `svc${String(i).padStart(3, "0")}`, crash))

/** Start every contender with its own children; stop them all afterwards, whatever happens. */
const withAll = async <A>(
  count: number,
  options: Parameters<Contender["start"]>[1],
  f: (running: ReadonlyArray<{ readonly contender: Contender; readonly reports: Reports; readonly names: ReadonlyArray<string> }>) => Promise<A>
) => {
  const running: Array<{ contender: Contender; reports: Reports; names: ReadonlyArray<string> }> = []
  try {
    for (const contender of allContenders()) {
      const reports = new Reports(Path.join(runDir("reports"), `${contender.name}.txt`))
      const list = programs(reports, count)
      running.push({ contender, reports, names: list.map((p) => p.name) })
      await contender.start(list, options)
      await reports.allStartedAfter(list.map((p) => p.name), 0n)
    }
    return await f(running)
  } finally {
    for (const { contender } of running) await contender.stop()
  }
}

/** 1. kill -9 of a child → its replacement's first act. */
const restartLatency = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  const rounds = plan.quick ? 7 : 25
  const samples = new Map<string, Array<number>>()
  await withAll(1, { healthyAfter: "1s" }, async (running) => {
    for (let r = 0; r < rounds; r++) {
      await sleep(1200) // every child has run 1 s: a healthy run for every contender
      for (const { contender, reports } of rotate(running, r)) {
        const before = reports.latest().get("svc000")!
        const killedAt = monotonicNs()
        process.kill(before.pid, "SIGKILL")
        const after = await waitFor(`${contender.name} to restart svc000`, () => {
          const now = reports.latest().get("svc000")
          return now !== undefined && now.pid !== before.pid ? now : undefined
        }, 30_000, 1)
        const list = samples.get(contender.name) ?? []
        list.push(Number(after.at - killedAt) / 1e6)
        samples.set(contender.name, list)
      }
    }
  })
  const floor = floorOf(samples)
  return [...samples].map(([name, xs]) =>
    row("1. restart latency (kill -9 → replacement's first act)", name, "ms", xs, {
      floor,
      ...(name === "mcp-manager" ? { target: "median ≤ 1.3× floor", met: (m) => m <= 1.3 * floor } : {})
    })
  )
}

/** 2 and 3: a fresh status process; a status request on an open connection. */
const controlPlane = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  const rounds = plan.quick ? 8 : 30
  const calls = plan.quick ? 300 : 2000
  const cold = new Map<string, Array<number>>()
  const warm = new Map<string, Array<number>>()
  await withAll(10, {}, async (running) => {
    for (let r = 0; r < rounds; r++) {
      for (const { contender } of rotate(running, r)) {
        const [file, args] = contender.statusCommand()
        const result = await run(file, args)
        if (result.code !== 0) throw new Error(`${contender.name} status failed: ${result.stderr.slice(-1000)}`)
        const list = cold.get(contender.name) ?? []
        list.push(result.ms)
        cold.set(contender.name, list)
      }
    }
    const clients = await Promise.all(running.map(async ({ contender }) => ({ name: contender.name, client: await contender.open() })))
    try {
      const blocks = 10
      for (let b = 0; b < blocks; b++) {
        for (const { client, name } of rotate(clients, b)) {
          const list = warm.get(name) ?? []
          for (let i = 0; i < calls / blocks; i++) {
            const start = monotonicNs()
            await client.call()
            list.push(Number(monotonicNs() - start) / 1e6)
          }
          warm.set(name, list)
        }
      }
    } finally {
      for (const { client } of clients) await client.close()
    }
  })
  const coldFloor = floorOf(cold)
  const warmFloor = floorOf(warm)
  const coldNames: Record<string, string> = {
    "mcp-manager": "mcpctl status",
    supervisord: "supervisorctl status",
    PM2: "pm2 jlist",
    floor: "node -e 0"
  }
  const warmNames: Record<string, string> = {
    "mcp-manager": "ControlClient Status (@effect/rpc)",
    supervisord: "XML-RPC getAllProcessInfo",
    PM2: "pm2 API list()",
    floor: "raw socket line"
  }
  return [
    ...[...cold].map(([name, xs]) =>
      row("2. control plane: fresh status process (10 children)", name, "ms", xs, {
        floor: coldFloor,
        note: coldNames[name],
        ...(name === "mcp-manager" ? { target: "≤ floor + 25 ms", met: (m) => m <= coldFloor + 25 } : {})
      })
    ),
    ...[...warm].map(([name, xs]) =>
      row("3. status round trip, open connection (10 children)", name, "ms", xs, {
        floor: warmFloor,
        note: warmNames[name],
        ...(name === "mcp-manager" ? { target: "median ≤ 0.5 ms", met: (m) => m <= 0.5 } : {})
      })
    )
  ]
}

/**
 * How long a supervisor sits idle before its settled RSS is taken. A Node.js process keeps the heap
 * its bring-up grew until V8's memory reducer runs, which is 20-50 s after the burst here.
 */
const settleMs = 60_000

/**
 * 4 and 5: memory and bring-up with 1, 100 and 500 children; restart-all with 100. A full run also
 * takes the RSS once more after 60 s idle (100 and 500 children, first round only).
 */
const scale = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  const sizes = plan.quick ? [100] : [1, 100, 500]
  const reps = plan.quick ? 1 : 3
  const rows: Array<Row> = []
  for (const size of sizes) {
    const rss = new Map<string, Array<number>>()
    const settledRss = new Map<string, Array<number>>()
    const bringUp = new Map<string, Array<number>>()
    const restartAll = new Map<string, Array<number>>()
    for (let r = 0; r < reps; r++) {
      for (const contender of rotate(allContenders(), r)) {
        const reports = new Reports(Path.join(runDir("reports"), `${contender.name}-${size}.txt`))
        const list = programs(reports, size)
        const names = list.map((p) => p.name)
        plan.log(`  ${size} children: ${contender.name}`)
        try {
          const startedAt = monotonicNs()
          await contender.start(list)
          const last = await reports.allStartedAfter(names, startedAt, 300_000)
          bringUp.set(contender.name, [...bringUp.get(contender.name) ?? [], Number(last.at - startedAt) / 1e6])
          await sleep(plan.quick ? 1000 : 3000) // settle: every run healthy, buffers allocated
          rss.set(contender.name, [...rss.get(contender.name) ?? [], rssMb(contender.pid())])
          if (size === 100) {
            const [file, args] = contender.restartAllCommand()
            const issuedAt = monotonicNs()
            const result = await run(file, args, {}, 300_000)
            if (result.code !== 0) throw new Error(`${contender.name} restart-all failed: ${result.stderr.slice(-1000)}`)
            const lastAgain = await reports.allStartedAfter(names, issuedAt, 300_000)
            restartAll.set(contender.name, [...restartAll.get(contender.name) ?? [], Number(lastAgain.at - issuedAt) / 1e6])
          }
          if (!plan.quick && r === 0 && size >= 100) {
            await sleep(settleMs) // from the last burst: bring-up, or restart-all with 100
            settledRss.set(contender.name, [rssMb(contender.pid())])
          }
        } finally {
          await contender.stop()
        }
      }
    }
    const rssTarget = size === 100 ? 60 : size === 500 ? 70 : undefined
    const rssRows = (figure: string, samples: Map<string, Array<number>>) => {
      for (const [name, xs] of samples) {
        rows.push(row(figure, name, "MB", xs, {
          floor: floorOf(samples),
          ...(name === "mcp-manager" && rssTarget !== undefined ? { target: `≤ ${rssTarget} MB`, met: (m) => m <= rssTarget } : {})
        }))
      }
    }
    rssRows(`4. supervisor RSS, ${size} children`, rss)
    rssRows(`4. supervisor RSS, ${size} children, settled (${settleMs / 1000} s idle)`, settledRss)
    for (const [name, xs] of bringUp) {
      const floor = floorOf(bringUp)
      rows.push(row(`4. bring-up, ${size} children (start → last child's first act)`, name, "ms", xs, {
        floor,
        ...(name === "mcp-manager" && size > 1 ? { target: "≤ 1.5× floor", met: (m) => m <= 1.5 * floor } : {})
      }))
    }
    for (const [name, xs] of restartAll) {
      rows.push(row("5. restart-all, 100 children (fresh CLI → last replacement's first act)", name, "ms", xs, {
        floor: floorOf(restartAll),
        ...(name === "mcp-manager" ? { target: "≤ 1 s", met: (m) => m <= 1000 } : {})
      }))
    }
  }
  return rows
}

/** 6. A child that exits at once, for 10 s, under each contender's defaults. */
const crashLoop = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  const seconds = 10
  const measure = async (contender: Contender) => {
    const reports = new Reports(Path.join(runDir("reports"), `${contender.name}-crash.txt`))
    const startedAt = monotonicNs()
    try {
      await contender.start(programs(reports, 1, true))
      const cpuBefore = cpuSeconds(contender.pid())
      await sleep(seconds * 1000 - Number(monotonicNs() - startedAt) / 1e6)
      const cpu = cpuSeconds(contender.pid()) - cpuBefore
      const end = startedAt + BigInt(seconds * 1e9)
      const starts = reports.poll().filter((s) => s.at <= end).length
      const state = await contender.stateOf("svc000")
      return { name: contender.name, starts, cpu, state }
    } finally {
      await contender.stop()
    }
  }
  // --quick: all at once (10 s instead of 40); the floor's spinning then shares the CPU with the rest
  const results = plan.quick
    ? await Promise.all(allContenders().map(measure))
    : await (async () => {
      const out = []
      for (const contender of allContenders()) out.push(await measure(contender))
      return out
    })()
  return results.flatMap(({ cpu, name, starts, state }) => [
    row(`6. crash loop ${seconds} s, defaults: starts`, name, "starts", [starts], {
      note: `state shown: ${state}`,
      ...(name === "mcp-manager" ? { target: "≤ 8", met: (m) => m <= 8 } : {})
    }),
    row(`6. crash loop ${seconds} s, defaults: supervisor CPU`, name, "s", [cpu], { note: `CPU time used in ${seconds} s` })
  ])
}

export const supervisorFigures = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  const rows: Array<Row> = []
  const groups = [
    ["restart", "1. restart latency", restartLatency],
    ["control", "2-3. control plane", controlPlane],
    ["scale", "4-5. memory, bring-up, restart-all", scale],
    ["crash", "6. crash loop", crashLoop]
  ] as const
  for (const [key, title, figures] of groups) {
    if (plan.only.length > 0 && !plan.only.includes(key)) continue
    plan.log(title)
    rows.push(...await figures(plan))
  }
  return rows
}
