// The status page's script (page.ts embeds it): plain browser JavaScript, no build step.
// Data attributes (data-loop, data-state, data-heals, data-seq) are what the browser test reads.
export const PAGE_SCRIPT = `
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const ms = (x) => x < 1 ? (x * 1000).toFixed(0) + " µs" : x < 1000 ? x.toFixed(1) + " ms" : (x / 1000).toFixed(2) + " s";
const pad = (n, w) => String(n).padStart(w || 2, "0");
const clock = (t, withMs) => { const d = new Date(t); return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + (withMs ? "." + pad(d.getMilliseconds(), 3) : ""); };
const ago = (t, now) => { const s = Math.max(0, Math.round((now - t) / 1000)); return s < 60 ? s + " s ago" : s < 3600 ? Math.round(s / 60) + " min ago" : Math.round(s / 3600) + " h ago"; };
const badge = (cls, text) => '<span class="badge ' + cls + '">' + esc(text) + "</span>";

// What a person should take from a loop at a glance: red failing, amber contested or busy, green converged.
function loopState(s) {
  if (s.state === "stopped") return ["bad", "stopped" + (s.stopReason ? ": " + s.stopReason : "")];
  if (s.lastPass && s.lastPass.error) return ["bad", "failing"];
  if (s.consecutiveFailures > 0 || s.state === "backoff") return ["bad", "failing"];
  if (s.notConverging.length) return ["bad", "not converging"];
  if (s.contested.length) return ["warn", "contested"];
  if (s.events.state === "down") return ["warn", "events down"];
  if (!s.ready) return ["warn", "starting"];
  if (!s.converged) return ["warn", s.conflicts.length ? "conflicts" : "converging"];
  return ["ok", "converged"];
}

function quantile(sorted, f) { return sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))]; }

// Heal latency over time: a dot per heal (a line once there are two), throttled heals apart.
function latencyChart(points) {
  if (!points.length) return '<figure data-heals="0"><span class="muted">no heals yet</span></figure>';
  const w = 360, h = 90, heals = points.filter((p) => !p.throttled), held = points.filter((p) => p.throttled);
  const t0 = points[0].at, t1 = points[points.length - 1].at, span = Math.max(1, t1 - t0);
  const top = Math.max(0.001, ...(heals.length ? heals : held).map((p) => p.ms));
  const x = (p) => points.length === 1 ? w / 2 : 6 + ((p.at - t0) / span) * (w - 12);
  const y = (p) => h - 6 - Math.min(1, p.ms / top) * (h - 18);
  let svg = '<svg width="' + w + '" height="' + h + '" role="img" aria-label="heal latency">';
  svg += '<text x="4" y="11" font-size="10" fill="#778">' + esc(ms(top)) + "</text>";
  if (heals.length > 1) svg += '<polyline fill="none" stroke="#3466d6" stroke-width="1.2" points="' + heals.map((p) => x(p) + "," + y(p)).join(" ") + '"/>';
  for (const p of heals) svg += '<circle class="heal" cx="' + x(p) + '" cy="' + y(p) + '" r="2.5" fill="#3466d6"><title>' + clock(p.at, true) + ": " + esc(ms(p.ms)) + "</title></circle>";
  for (const p of held) svg += '<circle class="throttled" cx="' + x(p) + '" cy="' + y(p) + '" r="3" fill="none" stroke="#9a6700"><title>' + clock(p.at, true) + ": throttled heal, " + esc(ms(p.ms)) + "</title></circle>";
  svg += "</svg>";
  const sorted = heals.map((p) => p.ms).sort((a, b) => a - b);
  let caption = sorted.length
    ? "heal latency: p50 " + ms(quantile(sorted, 0.5)) + ", p99 " + ms(quantile(sorted, 0.99)) + ", max " + ms(sorted[sorted.length - 1]) + " (" + sorted.length + " heal" + (sorted.length === 1 ? "" : "s") + ")"
    : "no unthrottled heals yet";
  if (held.length) caption += '; <span class="warn">' + held.length + " throttled</span> (contested, rate-limited on purpose, not counted)";
  return '<figure data-heals="' + heals.length + '" data-throttled="' + held.length + '">' + svg + "<figcaption>" + caption + "</figcaption></figure>";
}

function passClass(r) {
  if (r.error || r.failed.length) return ["#b3261e", "failed"];
  if (r.conflicts.length || r.deferred.length) return ["#9a6700", "held back"];
  if (r.applied.length) return ["#3466d6", "applied"];
  return ["#aab", "no-op"];
}

// The recent passes on a time axis: one bar each, coloured by what it did.
function timeline(passes, now) {
  if (!passes.length) return '<figure><span class="muted">no passes yet</span></figure>';
  const w = 360, h = 90, t1 = now, t0 = Math.min(passes[0].startedAt, now - 60000), span = t1 - t0;
  let svg = '<svg width="' + w + '" height="' + h + '" role="img" aria-label="pass timeline">';
  for (const r of passes) {
    const [color, what] = passClass(r);
    const x = 6 + ((r.startedAt - t0) / span) * (w - 12);
    svg += '<rect x="' + (x - 1.5) + '" y="14" width="3" height="' + (h - 34) + '" fill="' + color + '"><title>#' + r.seq + " " + clock(r.startedAt, true) + " " + esc(r.trigger) + ", " + what + ", " + esc(ms(r.timings.totalMs)) + "</title></rect>";
  }
  svg += '<text x="4" y="' + (h - 6) + '" font-size="10" fill="#778">' + clock(t0) + '</text><text x="' + (w - 4) + '" y="' + (h - 6) + '" font-size="10" fill="#778" text-anchor="end">' + clock(t1) + "</text></svg>";
  return "<figure>" + svg + "<figcaption>passes: blue applied, grey no-op, amber held back, red failed</figcaption></figure>";
}

function passRows(s) {
  const rows = s.recentPasses.slice().reverse().filter((r) => r.ops.length || r.error).slice(0, 8).map((r) =>
    '<tr data-seq="' + r.seq + '"><td>#' + r.seq + "</td><td>" + clock(r.startedAt, true) + "</td><td>" + esc(r.trigger) + '</td><td class="num">' + ms(r.timings.totalMs) + "</td><td>" +
    r.applied.map((a) => "<code>" + esc(a) + "</code>").join("<br>") + (r.error ? '<code class="bad">' + esc(r.error) + "</code>" : "") +
    r.failed.map((f) => '<br><code class="bad">' + esc(f.op) + ": " + esc(f.error) + "</code>").join("") +
    r.conflicts.map((c) => '<br><code class="warn">' + esc(c) + "</code>").join("") + "</td></tr>").join("");
  return "<table><thead><tr><th>pass</th><th>started</th><th>trigger</th><th class=\\"num\\">took</th><th>ops</th></tr></thead><tbody>" +
    (rows || '<tr><td colspan="5" class="muted">no changes yet</td></tr>') + "</tbody></table>";
}

function loopRow(name, s, now) {
  const [cls, label] = loopState(s), p = s.lastPass, c = s.counters;
  const last = p ? clock(p.startedAt) + " (" + ago(p.startedAt, now) + "), " + esc(p.trigger) + ", " + ms(p.timings.totalMs) + (p.error ? ' <span class="bad">' + esc(p.error) + "</span>" : "") : "";
  return '<tr data-loop="' + esc(name) + '"><td>' + esc(name) + "</td><td>" + esc(s.source) + '</td><td data-state="' + cls + '">' + badge(cls, label) +
    '</td><td class="num">' + c.passes + '</td><td class="num">' + c.noopPasses + '</td><td class="num">' + c.driftHealed + '</td><td class="num">' + c.opsFailed +
    '</td><td class="num">' + (s.conflicts.length + s.contested.length) + "</td><td>" + last + "</td></tr>";
}

function loopDetails(name, s, now) {
  return '<section data-loop="' + esc(name) + '"><h2>' + esc(name) + '</h2><div class="charts">' + latencyChart(s.healLatenciesMs) + timeline(s.recentPasses, now) + "</div>" +
    (s.contested.length ? '<p class="warn">contested (healed at most once per interval): ' + s.contested.map((c) => esc(c.op)).join(", ") + "</p>" : "") +
    (s.notConverging.length ? '<p class="bad">not converging: ' + s.notConverging.map(esc).join(", ") + "</p>" : "") + passRows(s) + "</section>";
}

async function tick() {
  const health = document.getElementById("health");
  try {
    const [st, hz] = await Promise.all([fetch("status").then((r) => r.json()), fetch("healthz")]);
    const now = Date.now(), loops = Object.entries(st.loops);
    const states = loops.map(([, s]) => loopState(s)[0]);
    const warn = loops.filter(([, s]) => s.contested.length).length;
    if (!hz.ok) { health.className = "badge bad"; health.textContent = "unhealthy"; }
    else if (warn) { health.className = "badge warn"; health.textContent = "healthy, " + warn + " loop" + (warn === 1 ? "" : "s") + " contested"; }
    else if (states.includes("bad") || states.includes("warn")) { health.className = "badge warn"; health.textContent = "healthy, not all converged"; }
    else { health.className = "badge ok"; health.textContent = "healthy"; }
    document.getElementById("updated").textContent = "updated " + clock(now);
    document.getElementById("loops").innerHTML = loops.map(([n, s]) => loopRow(n, s, now)).join("");
    document.getElementById("details").innerHTML = loops.map(([n, s]) => loopDetails(n, s, now)).join("");
  } catch (e) {
    health.className = "badge bad";
    health.textContent = "status unreachable";
  }
}
tick(); setInterval(tick, 1000);
`
