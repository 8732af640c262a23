// Effect's Console, minus the ANSI styles that @effect/cli puts in help and usage errors wherever
// they go. In a pipe, a file or the journal they are noise (`mcpctl --help | less`), so there they
// are taken out, as they are when NO_COLOR is set or TERM=dumb (https://no-color.org).
import { Console, Effect, Layer } from "effect"

/** Select Graphic Rendition sequences: the only kind @effect/printer-ansi writes. */
const styleSequence = /\x1b\[[0-9;]*m/g

/** Whether text for this stream should carry no styles. */
const wantsPlainText = (stream: { readonly isTTY?: boolean }) =>
  stream.isTTY !== true || (process.env.NO_COLOR ?? "") !== "" || process.env.TERM === "dumb"

const unstyled = (args: ReadonlyArray<unknown>) =>
  args.map((arg) => (typeof arg === "string" ? arg.replace(styleSequence, "") : arg))

/** The Console in place, its log (stdout) and error (stderr) without styles where unwanted. */
export const TerminalConsoleLive: Layer.Layer<never> = Layer.unwrapEffect(
  Console.consoleWith((console) =>
    Effect.sync(() => {
      const plainOut = wantsPlainText(process.stdout)
      const plainErr = wantsPlainText(process.stderr)
      return plainOut || plainErr
        ? Console.setConsole({
          ...console,
          log: (...args) => console.log(...(plainOut ? unstyled(args) : args)),
          error: (...args) => console.error(...(plainErr ? unstyled(args) : args))
        })
        : Layer.empty
    })
  )
)
