// What the benchmark measured: one row per figure and contender, every sample kept for the JSON file.
import { median, p95 } from "./support.js"

export interface Row {
  /** "1. restart latency" */
  readonly figure: string
  readonly contender: string
  readonly unit: string
  readonly samples: ReadonlyArray<number>
  readonly median: number
  readonly p95: number
  /** median ÷ the floor's median (the interpreter figures: ÷ the docker CLI's), when there is one */
  readonly ratio: number | undefined
  readonly target: string | undefined
  /** undefined: no target for this contender */
  readonly met: boolean | undefined
  readonly note: string | undefined
}

export const row = (
  figure: string,
  contender: string,
  unit: string,
  samples: ReadonlyArray<number>,
  extra: { floor?: number | undefined; target?: string; met?: (median: number, p95: number) => boolean; note?: string | undefined } = {}
): Row => {
  const m = median(samples)
  const p = p95(samples)
  return {
    figure,
    contender,
    unit,
    samples,
    median: m,
    p95: p,
    ratio: extra.floor !== undefined && extra.floor > 0 ? m / extra.floor : undefined,
    target: extra.target,
    met: extra.met === undefined || samples.length === 0 ? undefined : extra.met(m, p),
    note: extra.note
  }
}

const format = (value: number, unit: string) => {
  if (Number.isNaN(value)) return "–"
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3
  return `${value.toFixed(digits)} ${unit}`
}

export const markdownTable = (rows: ReadonlyArray<Row>) => {
  const header = "| figure | contender | median | p95 | × floor | target | met? | n | notes |"
  const rule = "| --- | --- | ---: | ---: | ---: | --- | --- | ---: | --- |"
  const lines = rows.map((r) =>
    `| ${r.figure} | ${r.contender} | ${format(r.median, r.unit)} | ${format(r.p95, r.unit)} | ${
      r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}×`
    } | ${r.target ?? ""} | ${r.met === undefined ? "" : r.met ? "yes" : "**no**"} | ${r.samples.length} | ${r.note ?? ""} |`
  )
  return [header, rule, ...lines].join("\n")
}
