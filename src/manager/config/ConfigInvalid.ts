import { Schema } from "effect"

/** A config file that cannot be used; every problem names the file and the line or JSON path. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>("mcp-manager/ConfigInvalid")("ConfigInvalid", {
  file: Schema.String,
  problems: Schema.NonEmptyArray(Schema.String),
  /** The read error, for a file that could not be read (sent over the control socket as name and message). */
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const more = this.problems.length > 1 ? ` (and ${this.problems.length - 1} more problem(s))` : ""
    return `${this.file}: ${this.problems[0]}${more}`
  }
}
