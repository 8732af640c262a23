// What the file tools report: a copy between the host and the sandbox, and the installed packages
// (the SandboxFiles service speaks these types).

export interface Copied {
  readonly from: string
  readonly to: string
  readonly files: number
  readonly bytes: number
  /** Things deliberately left out, e.g. symbolic links coming out of the sandbox. */
  readonly skipped: ReadonlyArray<string>
  /** With `asImage`: the copied picture, for the client to show (base64). */
  readonly image?: { readonly data: string; readonly mimeType: string }
  /** Why a requested image was not returned. */
  readonly imageNote?: string
}

export interface Package {
  readonly name: string
  readonly version: string
}
