// Messages between the loops' thread and the status server's thread (worker.ts).

/** What the server answers reads with: made on the loops' thread, at most once per period. */
export interface Snapshot {
  status: string
  loops: Record<string, string>
  health: { status: number; body: string }
  ready: { status: number; body: string }
  metrics: string
  metricsType: string
}

export type ToServer =
  | { t: "start"; hostname: string; port: number; maxBodyBytes: number; snapshotMs: number }
  | { t: "snapshot"; snapshot: Snapshot }
  | { t: "answer"; id: number; status: number; headers: [string, string][]; body: string }
  | { t: "stop" }

export type FromServer =
  | { t: "listening"; url: string }
  | { t: "failed"; error: string }
  | { t: "snapshot?" }
  | { t: "request"; id: number; method: string; url: string; headers: [string, string][]; body: string | undefined }
  | { t: "stopped" }
