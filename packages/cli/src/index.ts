// @linx/cli as a library: the commands behind `linx`, for embedding and tests.
export { showCommand, planCommand, guard, stdio, type Output, type ExitCode } from "./commands.ts"
export { runCommand, type RunOptions } from "./run.ts"
export { demoCommand } from "./demo.ts"
export { loadFile, FileError, type DesiredFile } from "./file.ts"
