// @effect/cli styles its help and usage errors with ANSI escape codes whatever the output is. In a
// pipe, a file or the journal they are noise (`mcpctl --help | less`), so there they are taken
// out, as they are when NO_COLOR is set or TERM=dumb (https://no-color.org).
import { Console, Effect } from "effect"

/** Select Graphic Rendition sequences: the only kind @effect/printer-ansi writes. */
const styleSequence = /\x1b\[[0-9;]*m/g

/** Whether text for this stream should carry no styles. */
export const wantsPlainText = (stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY !== true || (env.NO_COLOR ?? "") !== "" || env.TERM === "dumb"

const unstyled = (args: ReadonlyArray<unknown>) =>
  args.map((arg) => (typeof arg === "string" ? arg.replace(styleSequence, "") : arg))

/** Runs `effect` with a Console whose log (stdout) and error (stderr) drop styles where unwanted. */
export const withPlainOutputWhereUnstyled = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => {
    const plainOut = wantsPlainText(process.stdout)
    const plainErr = wantsPlainText(process.stderr)
    if (!plainOut && !plainErr) return effect
    return Console.withConsole(effect, {
      ...console,
      log: (...args) => console.log(...(plainOut ? unstyled(args) : args)),
      error: (...args) => console.error(...(plainErr ? unstyled(args) : args))
    })
  })
