// `linx completion bash|zsh`: a completion script made from the command definitions
// themselves (commands, their options, the source names), so it never drifts from them.
import type { Command } from "commander"
import { SOURCE_KINDS } from "./sources.ts"

interface Spec {
  name: string
  options: string[]
}

function specs(program: Command): Spec[] {
  return program.commands.map((c) => ({
    name: c.name(),
    options: [...c.options.map((o) => o.long ?? o.short ?? ""), "--help"].filter(Boolean),
  }))
}

function bash(program: Command): string {
  const cmds = specs(program)
  const cases = cmds
    .map(
      (c) =>
        `    ${c.name}) opts="${c.options.join(" ")}"${c.name === "show" ? `; words="${SOURCE_KINDS.join(" ")}"` : ""} ;;`,
    )
    .join("\n")
  return `# bash completion for linx: source <(linx completion bash)
_linx() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" opts="" words=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${cmds.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ -n "$words" ] && [ "$COMP_CWORD" -eq 2 ]; then COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _linx linx
`
}

function zsh(program: Command): string {
  const cmds = specs(program)
  const lines = cmds.map(
    (c) => `    ${c.name}) _arguments ${c.options.map((o) => `'${o}'`).join(" ")} '*:file:_files' ;;`,
  )
  return `#compdef linx
# zsh completion for linx: linx completion zsh > "\${fpath[1]}/_linx"
_linx() {
  if (( CURRENT == 2 )); then
    compadd ${cmds.map((c) => c.name).join(" ")}
    return
  fi
  case "$words[2]" in
${lines.join("\n")}
  esac
}
compdef _linx linx
`
}

export function completionScript(program: Command, shell: string): string | undefined {
  return shell === "bash" ? bash(program) : shell === "zsh" ? zsh(program) : undefined
}
