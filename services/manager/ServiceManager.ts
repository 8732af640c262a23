// Telling the service manager that runs the daemon (systemd with Type=notify) how it is doing.
import { Context, type Effect, Schema } from "effect"

export class NotifyFailed extends Schema.TaggedError<NotifyFailed>("mcp-manager/NotifyFailed")("NotifyFailed", {
  sent: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `cannot notify the service manager (${this.sent}): ${this.reason}`
  }
}

/** One message to the service manager; the fields that are set are sent together. */
export interface ServiceNotification {
  /** Start-up is complete: every autostart server was spawned and the control socket answers. */
  readonly ready?: true
  /** Shutting down: the servers are being stopped. */
  readonly stopping?: true
  /** One line for `systemctl status`, e.g. "5 running, 1 backoff". */
  readonly status?: string
}

export class ServiceManager extends Context.Tag("mcp-manager/ServiceManager")<ServiceManager, {
  /** False when no service manager listens (not started by systemd): `notify` then does nothing. */
  readonly listening: boolean
  readonly notify: (notification: ServiceNotification) => Effect.Effect<void, NotifyFailed>
}>() {}
