// The fault suite's figures: every case records what was tried and what happened; the suite
// prints them as the table docs/reliability.md shows (copied there from a run's output:
// nothing here writes README.md or docs/).
import * as Fs from "node:fs"
import * as Path from "node:path"

export const reportFile = Path.resolve(import.meta.dirname, "../../../.faults-report.jsonl")

export interface Figure {
  readonly area: string
  /** What was tried, e.g. "path-escape corpus against cp_in". */
  readonly tried: string
  /** How many cases, attempts or clients. */
  readonly cases: number
  /** The measured outcome, e.g. "all refused; nothing outside read or written". */
  readonly result: string
}

export const record = (figure: Figure) => {
  Fs.appendFileSync(reportFile, JSON.stringify(figure) + "\n")
}

export const readReport = (): ReadonlyArray<Figure> =>
  Fs.existsSync(reportFile)
    ? Fs.readFileSync(reportFile, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Figure)
    : []

export const reportTable = (figures: ReadonlyArray<Figure>) =>
  [
    "| area | what was tried | cases | result |",
    "| --- | --- | --- | --- |",
    ...figures.map((f) => `| ${f.area} | ${f.tried} | ${f.cases} | ${f.result} |`)
  ].join("\n")
