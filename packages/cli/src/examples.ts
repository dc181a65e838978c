// The example files the demo runs, carried inside linx (a compiled binary has no
// checkout next to it): imported as text, so `bun build --compile` embeds them.
import firewall from "../../../examples/firewall.yaml" with { type: "text" }
import host from "../../../examples/host.yaml" with { type: "text" }
import router from "../../../examples/router.yaml" with { type: "text" }
import sysctl from "../../../examples/sysctl.yaml" with { type: "text" }

export const EMBEDDED_EXAMPLES: Readonly<Record<string, string>> = { firewall, host, router, sysctl }
