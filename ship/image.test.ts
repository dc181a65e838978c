// The container image (examples/deploy/Containerfile, built by scripts/image.sh with
// buildah, FROM scratch): an OCI archive whose entry point is linx, and whose root
// filesystem alone runs `linx run /etc/linx` in a private namespace, answers `linx
// probe readyz`, and makes what the files say. Needs root and buildah (setup --test).
import { describe, expect, test } from "bun:test"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { must as mustIn } from "./shell.ts"

const ROOT = resolve(import.meta.dir, "..")
const IS_ROOT = process.getuid?.() === 0
const HAVE_BUILDAH = !!Bun.which("buildah")
const must = (argv: string[]) => mustIn(argv, ROOT)

describe("the container image", () => {
  test.skipIf(!IS_ROOT || !HAVE_BUILDAH)(
    "FROM scratch: linx and its libraries only; it runs the files in /etc/linx in a namespace and answers its probe",
    () => {
      const tmp = mkdtempSync(join(tmpdir(), "linx-image-"))
      const { version } = require(join(ROOT, "packages/cli/package.json"))
      const image = `linx:${version}`
      let ctr = ""
      try {
        const archive = join(tmp, "linx.tar")
        const built = must(["bash", "scripts/image.sh", archive])
        expect(built).toContain(`image: ${image}`)
        const layout = must(["tar", "tf", archive]).split("\n")
        expect(layout).toContain("oci-layout")
        expect(layout).toContain("index.json")
        const config = JSON.parse(must(["buildah", "inspect", "--type", "image", image])).OCIv1.config
        expect(config.Entrypoint).toEqual(["/usr/local/bin/linx"])
        expect(config.Cmd.slice(0, 2)).toEqual(["run", "/etc/linx"])

        ctr = must(["buildah", "from", image]).trim()
        const root = must(["buildah", "mount", ctr]).trim()
        // nothing but linx, its libraries, and the empty mount points
        const files = must(["find", root, "-type", "f"])
          .trim()
          .split("\n")
          .map((f) => f.slice(root.length))
        expect(files.filter((f) => !/^\/(lib|lib64|usr\/lib)\/.*\.so[.\d]*$/.test(f)).sort()).toEqual([
          "/etc/protocols",
          "/etc/services",
          "/usr/local/bin/linx",
        ])
        must(["buildah", "copy", ctr, "examples/host.yaml", "examples/firewall.yaml", "/etc/linx/"])
        // the image's own files only (chroot): a private namespace, /proc for it, lo up
        const script = [
          `mount -t proc proc ${root}/proc`,
          "ip link set lo up",
          `chroot ${root} /usr/local/bin/linx run /etc/linx --status 127.0.0.1:9477 >${tmp}/run.log 2>&1 &`,
          "pid=$!",
          `for i in $(seq 100); do chroot ${root} /usr/local/bin/linx probe readyz >/dev/null 2>&1 && break; sleep 0.1; done`,
          `chroot ${root} /usr/local/bin/linx probe readyz`,
          "echo '--- links'; ip -j link show br-lan",
          "echo '--- tables'; nft -j list tables",
          'kill -TERM $pid; wait $pid; echo "--- exit $?"',
        ].join("\n")
        const out = must(["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", script])
        expect(out).toContain('readyz: 200 {"ready":true}')
        const [, links, tables, exit] = out.split(/--- \w+ ?/)
        expect(JSON.parse(links!)[0].ifname).toBe("br-lan")
        expect(JSON.stringify(JSON.parse(tables!))).toContain('"name":"edge"')
        expect(exit!.trim()).toBe("0")
      } finally {
        if (ctr) Bun.spawnSync(["buildah", "rm", ctr])
        rmSync(tmp, { recursive: true, force: true })
      }
    },
    180_000,
  )
})
