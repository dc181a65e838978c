// GET /: a small page a person can watch. It polls /status once a second and draws, per
// loop: its state (green converged, amber contested or converging, red failing), a pass
// timeline with times, and heal latency from the first heal on (throttled heals of
// contested objects drawn apart and left out of p50/p99).
import { PAGE_SCRIPT } from "./page-script.ts"

export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>linx status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2330;background:#fafbfc}
 h1{font-size:1.2rem;margin:0 0 1rem} h2{font-size:1rem;margin:1.4rem 0 .4rem}
 table{border-collapse:collapse;width:100%;background:#fff}
 th,td{padding:.3rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left;vertical-align:top}
 th{font-weight:600;color:#556} .num{text-align:right;font-variant-numeric:tabular-nums}
 .ok{color:#137333;font-weight:600} .bad{color:#b3261e;font-weight:600} .warn{color:#9a6700;font-weight:600}
 .badge{display:inline-block;padding:0 .45rem;border-radius:.6rem;font-weight:600;font-size:12px}
 .badge.ok{background:#e6f4ea} .badge.warn{background:#fef7e0} .badge.bad{background:#fce8e6}
 code{font:12px ui-monospace,monospace} .muted{color:#778} svg{background:#fff;border:1px solid #e3e6ea}
 #updated{font-size:12px;font-weight:400} .charts{display:flex;gap:1.5rem;flex-wrap:wrap} .charts figure{margin:0} figcaption{font-size:12px;color:#556}
</style></head>
<body><h1>linx <span id="health" class="badge muted">…</span> <span id="updated" class="muted"></span></h1>
<table><thead><tr><th>loop</th><th>source</th><th>state</th><th class="num">passes</th><th class="num">no-op</th>
<th class="num">drift healed</th><th class="num">ops failed</th><th class="num">conflicts</th><th>last pass</th></tr></thead>
<tbody id="loops"></tbody></table>
<div id="details"></div>
<script>${PAGE_SCRIPT}</script></body></html>`
