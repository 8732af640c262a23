// Starts the suite with an empty report and prints the table when it ends.
import * as Fs from "node:fs"
import { readReport, reportFile, reportTable } from "./report.js"

export const setup = () => {
  Fs.rmSync(reportFile, { force: true })
}

export const teardown = () => {
  const figures = readReport()
  process.stdout.write(`\nReliability figures (${figures.length} rows, from ${reportFile}):\n\n${reportTable(figures)}\n\n`)
}
