// GET /: a small page a person can watch. It polls /status once a second.
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>linx status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
 h1{font-size:1.2rem;margin:0 0 1rem} h2{font-size:1rem;margin:1.2rem 0 .4rem}
 table{border-collapse:collapse;width:100%;background:#fff} th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
 th{font-weight:600;color:#556} .ok{color:#137333;font-weight:600} .bad{color:#b3261e;font-weight:600} .warn{color:#9a6700;font-weight:600}
 code{font:12px ui-monospace,monospace} .muted{color:#778} svg{background:#fff;border:1px solid #e3e6ea}
</style></head>
<body><h1>linx <span id="health" class="muted">…</span></h1>
<table><thead><tr><th>loop</th><th>source</th><th>state</th><th>converged</th><th>passes</th><th>no-op</th><th>drift healed</th><th>ops failed</th><th>conflicts</th><th>last pass</th></tr></thead><tbody id="loops"></tbody></table>
<div id="details"></div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const ms = (x) => x < 1 ? (x * 1000).toFixed(0) + " µs" : x.toFixed(1) + " ms";
function spark(points) {
  if (!points.length) return '<span class="muted">no heals yet</span>';
  const w = 420, h = 60, max = Math.max(1, ...points.map((p) => p.ms));
  const xs = points.map((p, i) => [(i / Math.max(1, points.length - 1)) * (w - 8) + 4, h - 4 - (p.ms / max) * (h - 8)]);
  const sorted = points.map((p) => p.ms).sort((a, b) => a - b);
  const q = (f) => sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))];
  return '<svg width="' + w + '" height="' + h + '"><polyline fill="none" stroke="#3466d6" stroke-width="1.5" points="' + xs.map((p) => p.join(",")).join(" ") + '"/></svg>' +
    ' <span class="muted">heal latency: p50 ' + ms(q(0.5)) + ', p99 ' + ms(q(0.99)) + ', max ' + ms(max) + ' (' + points.length + ' heals)</span>';
}
async function tick() {
  try {
    const [st, hz] = await Promise.all([fetch("status").then((r) => r.json()), fetch("healthz")]);
    document.getElementById("health").innerHTML = hz.ok ? '<span class="ok">healthy</span>' : '<span class="bad">unhealthy</span>';
    const rows = [], details = [];
    for (const [name, s] of Object.entries(st.loops)) {
      const p = s.lastPass;
      const state = s.state === "running" ? '<span class="ok">running</span>' : s.state === "backoff" ? '<span class="warn">backoff</span>' : esc(s.state);
      rows.push("<tr><td>" + esc(name) + "</td><td>" + esc(s.source) + "</td><td>" + state + "</td><td>" + (s.converged ? '<span class="ok">yes</span>' : '<span class="bad">no</span>') +
        "</td><td>" + s.counters.passes + "</td><td>" + s.counters.noopPasses + "</td><td>" + s.counters.driftHealed + "</td><td>" + s.counters.opsFailed + "</td><td>" + (s.conflicts.length + s.contested.length) +
        "</td><td>" + (p ? esc(p.trigger) + ", " + ms(p.timings.totalMs) + (p.error ? ' <span class="bad">' + esc(p.error) + "</span>" : "") : "") + "</td></tr>");
      const passes = s.recentPasses.slice().reverse().filter((r) => r.ops.length || r.error).slice(0, 8).map((r) =>
        "<tr><td>#" + r.seq + "</td><td>" + esc(r.trigger) + "</td><td>" + ms(r.timings.totalMs) + "</td><td>" +
        r.applied.map((a) => "<code>" + esc(a) + "</code>").join("<br>") + r.failed.map((f) => '<br><code class="bad">' + esc(f.op) + ": " + esc(f.error) + "</code>").join("") +
        r.conflicts.map((c) => '<br><code class="warn">' + esc(c) + "</code>").join("") + "</td></tr>").join("");
      details.push("<h2>" + esc(name) + "</h2>" + spark(s.healLatenciesMs) +
        (s.contested.length ? '<p class="warn">contested: ' + s.contested.map((c) => esc(c.op)).join(", ") + "</p>" : "") +
        (s.notConverging.length ? '<p class="bad">not converging: ' + s.notConverging.map(esc).join(", ") + "</p>" : "") +
        "<table><thead><tr><th>pass</th><th>trigger</th><th>took</th><th>ops</th></tr></thead><tbody>" + (passes || '<tr><td colspan="4" class="muted">no changes yet</td></tr>') + "</tbody></table>");
    }
    document.getElementById("loops").innerHTML = rows.join("");
    document.getElementById("details").innerHTML = details.join("");
  } catch (e) {
    document.getElementById("health").innerHTML = '<span class="bad">status unreachable</span>';
  }
}
tick(); setInterval(tick, 1000);
</script></body></html>`
