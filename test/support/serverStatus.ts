// A ServerStatus for tests that render or react to statuses: a name, a command and a state, the
// rest as a server that never ran has them unless the test says otherwise.
import { ServerStatus } from "../../src/protocol/ManagerRpcs.js"

export const serverStatus = (fields: Partial<ServerStatus> & Pick<ServerStatus, "name" | "command" | "state">) =>
  new ServerStatus({
    pid: null,
    restarts: 0,
    startedAt: null,
    lastExit: null,
    nextRestartAt: null,
    lastError: null,
    autostart: true,
    restartPolicy: "always",
    ...fields
  })
