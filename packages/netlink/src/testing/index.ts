export { RecordingTransport, ReplayTransport, toHex, fromHex, type Recording } from "./replay.ts"
