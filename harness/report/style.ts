// The report's stylesheet, inlined (the CSP allows nothing external), for a 1280 px window: cell text wraps anywhere,
// reasons are clamped to three lines (the full text stays in the cell's title tooltip).
export const CSS = `
:root { color-scheme: light; --muted: #666; --line: #d0d4d9; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; background: #fff; }
header, main { max-width: 1240px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 6px; }
h1 .kernel { font-weight: 500; color: #fff; background: #1b1f24; border-radius: 4px; padding: 1px 8px; margin-left: 8px; font-size: 18px; white-space: nowrap; }
h2 { font-size: 18px; margin: 26px 0 6px; }
h3 { font-size: 16px; margin: 0 0 10px; }
h4 { font-size: 13px; margin: 12px 0 4px; color: #333; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
code { background: #f2f4f6; padding: 0 3px; border-radius: 3px; overflow-wrap: break-word; }
a { color: #0b57c2; }
.muted { color: var(--muted); }
.lead { margin: 0 0 10px; color: #333; }
.tally { margin: 4px 0 10px; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
.host { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; align-items: start; }
table.facts { border-collapse: collapse; font-size: 13px; }
table.facts th { text-align: left; font-weight: 600; color: #444; padding: 1px 12px 1px 0; vertical-align: top; white-space: nowrap; }
table.facts td { padding: 1px 0; overflow-wrap: anywhere; }
ul.transports { margin: 0; padding-left: 18px; font-size: 13px; }
table.offloads { border-collapse: collapse; font-size: 12px; }
table.offloads th, table.offloads td { border-bottom: 1px solid #eceff2; padding: 1px 10px 1px 0; text-align: left; }
table.offloads thead th { border-bottom: 1px solid var(--line); }
table.offloads tbody th { font-weight: 400; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
table.offloads td.on { color: #1e7b38; font-weight: 600; }
table.offloads td.off { color: #888; }
table.offloads small { font-weight: 400; color: #888; }
details { margin-top: 4px; font-size: 12px; }
summary { cursor: pointer; color: #0b57c2; }

table.recs { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 13px; margin: 6px 0 8px; }
table.recs col.method-col { width: 110px; }
table.recs col.dim-col { width: 78px; }
table.recs col.use-col { width: 250px; }
table.recs col.fail-col { width: 330px; }
table.recs th, table.recs td { padding: 5px 6px; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
table.recs thead th { background: #f6f7f9; border-bottom: 1px solid var(--line); font-size: 12px; color: #444; }
table.recs tbody tr { border-top: 1px solid #eceff2; }
table.recs tbody tr.group { border-top: 1px solid var(--line); }
table.recs th.method { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
table.recs td.dim { color: #444; font-size: 12px; }
table.recs td.rule { line-height: 1.4; }
table.recs tr.none-held td.rule { color: #8c1a12; font-weight: 600; }
table.recs td.use > span { display: block; }
table.recs td.use .badge { display: inline-block; margin-bottom: 2px; }
table.recs td.use .cost { font-weight: 600; font-size: 12px; }
table.recs td.use .bound, table.recs td.use .also { font-size: 12px; color: #333; }
table.recs .none-held { color: #8c1a12; font-weight: 700; }
table.recs ul.failed { list-style: none; margin: 0; padding: 0; font-size: 12px; }
table.recs ul.failed li { position: relative; padding-left: 18px; margin-bottom: 2px; }
table.recs ul.failed .swatch { width: 12px; height: 11px; top: 2px; }
table.recs ul.failed a { color: inherit; text-decoration: none; }
table.recs ul.failed a:hover { text-decoration: underline; }
table.recs li.unproven { color: #555; }
p.fine { font-size: 12px; color: #444; margin: 4px 0; }

/* Rows are method × transport and columns the safeguards, so a cell is ~1/8 of the width; text
 * may wrap anywhere and never spills (the browser test measures every cell). */
table.matrix { width: 100%; table-layout: fixed; border-collapse: separate; border-spacing: 0; font-size: 12px; }
table.matrix col.method-col { width: 108px; }
table.matrix col.tr-col { width: 66px; }
table.matrix th { font-weight: 600; padding: 4px; background: #f6f7f9; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.matrix thead th { text-align: center; }
table.matrix th.corner { text-align: left; font-size: 11px; color: #555; font-weight: 400; }
table.matrix th.method { text-align: left; vertical-align: top; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; border-bottom: 2px solid #fff; }
table.matrix th.tr { text-align: left; vertical-align: top; font-weight: 400; color: #555; font-size: 11px; border-bottom: 2px solid #fff; }
table.matrix tr.group > * { border-top: 3px solid #fff; }
table.matrix td { padding: 0; vertical-align: top; border-bottom: 2px solid #fff; border-right: 1px solid #fff; height: 44px; overflow-wrap: anywhere; min-width: 0; }
table.matrix td > a { text-decoration: none; color: inherit; display: block; height: 100%; }
table.matrix td .n, table.matrix td .v, table.matrix td .r, table.matrix td .go { display: block; padding: 0 5px; }
table.matrix td .n { font-size: 15px; font-weight: 700; color: var(--ink); padding-top: 3px; }
table.matrix td .v { font-weight: 600; color: var(--ink); line-height: 1.2; font-size: 11.5px; padding-bottom: 3px; }
table.matrix td .r { font-size: 10.5px; line-height: 1.25; color: #333; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; padding-bottom: 0; margin-bottom: 4px; }
table.matrix td .go { font-size: 10.5px; color: #0b57c2; text-decoration: underline; padding-bottom: 3px; }
table.matrix td.cell:not(:has(.n)) .v { padding-top: 5px; }
table.matrix td.na { background: repeating-linear-gradient(135deg, #fff 0 5px, #f0f1f3 5px 10px); color: #999; text-align: center; vertical-align: middle; }
table.matrix td:hover { outline: 2px solid #1b1f24; outline-offset: -2px; }

ul.legend { list-style: none; padding: 0; margin: 12px 0; display: grid; grid-template-columns: 1fr 1fr; gap: 4px 24px; font-size: 13px; }
ul.legend li { padding-left: 24px; position: relative; }
.swatch { position: absolute; left: 0; top: 3px; width: 16px; height: 14px; border: 1px solid; border-radius: 3px; }
.swatch.na { background: repeating-linear-gradient(135deg, #fff 0 3px, #d8dadf 3px 6px); border-color: #bbb; }
ul.notes { font-size: 13px; margin: 0; padding-left: 18px; }

figure { margin: 8px 0 0; }
figcaption { font-size: 13px; color: #333; margin-bottom: 4px; }
svg.chart, svg.timeline { display: block; max-width: 100%; height: auto; }
/* a white halo under every label so the dashed guide lines never run through text */
svg.chart text, svg.timeline text { paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }

section.counterexample { border: 1px solid var(--line); border-radius: 6px; padding: 14px 16px; margin: 14px 0; }
section.counterexample:target { box-shadow: 0 0 0 3px #0b57c2; }
.cx-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 560px); gap: 24px; }
.cx-grid h4:first-child { margin-top: 0; }
p.replay, p.links { font-size: 13px; margin: 8px 0; }
pre.hex { margin: 0; padding: 8px 10px; background: #f7f8fa; border: 1px solid #e3e6ea; border-radius: 4px; line-height: 1.35; overflow-x: auto; }
.hx-h, .hx-off { color: #8a8f98; }
.hx-tag { font-weight: 700; }
.hx-w, .hx-r, .hx-x { border-radius: 2px; font-weight: 700; }
.hx-w { background: #f6b9b3; color: #8c1a12; }
.hx-r { background: #fcd5a0; color: #7a3e00; }
.hx-x { background: #e9c0e2; color: #6b1f60; }
.hx-miss { color: #bbb; }
p.hx-key { font-size: 12px; color: #444; margin: 6px 0 0; }
section.findings ul.findings { margin: 4px 0 8px; padding-left: 20px; }
section.findings li { background: #f6b9b3; color: #5a0f08; font-weight: 600; padding: 4px 8px; margin-bottom: 4px; }
table.observations tr.finding td { background: #f6b9b3; font-weight: 600; }
table.observations td, table.observations th { padding: 2px 8px; text-align: left; }
`;
