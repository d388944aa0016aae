#!/usr/bin/env python3
"""Draws a simulated run so a person can see what happened.

Reads the DAG export of narwhal_sim (--export_dag, JSON Lines, see
docs/dag_export.md) and, optionally, its run summary (--run_summary), and
writes one self-contained HTML page (no scripts, no network) with:

  * the DAG: rounds as columns, authorities as rows, parent edges; each
    certificate coloured by the sub-DAG (consensus index) that committed it,
    committed leaders drawn large with their index, uncommitted ones grey;
  * commit latency over virtual time (every batch, the first time an honest
    node commits it) with the fault periods shaded and the heal marked;
  * the fault schedule and the run's figures.

Each picture can also be written as a standalone SVG (--dag_svg,
--latency_svg). Python 3 standard library only.

  narwhal_sim --scenario=scenarios/leader_crash.json \
      --export_dag=/tmp/dag.jsonl --run_summary=/tmp/run.json
  tools/render_run.py --dag=/tmp/dag.jsonl --summary=/tmp/run.json \
      --out=/tmp/run.html --rounds=0..60
"""

import argparse
import html
import json
import sys

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
           "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#843c39"]
# Fault period colours come from the run summary ("fault_period_kinds",
# written from the simulator's fault table), so a new fault kind needs no
# line here; a kind the summary does not colour gets one of these.
FALLBACK_FAULT_COLORS = ["#7f7f7f", "#bcbd22", "#393b79", "#637939", "#843c39"]


def esc(s):
    return html.escape(str(s), quote=True)


def read_dag(path):
    meta, certs, commits = None, {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
            kind = rec.get("type")
            if kind == "meta":
                meta = rec
            elif kind == "certificate":
                certs[rec["digest"]] = rec
            elif kind == "commit":
                commits.append(rec)
    if meta is None:
        sys.exit(f"{path}: no meta line (is this a narwhal_sim --export_dag file?)")
    return meta, certs, commits


def parse_rounds(text, max_round):
    if not text:
        return 0, min(max_round, 60)
    a, _, b = text.partition("..")
    lo = int(a)
    hi = int(b) if b else lo
    return lo, min(hi, max_round)


def dag_svg(meta, certs, commits, lo, hi):
    n = meta["nodes"]
    col, row, left, top = 34, 30, 70, 40
    width = left + (hi - lo + 1) * col + 30
    height = top + n * row + 60
    committed_by = {}   # digest -> index
    leaders = {}        # digest -> index
    for c in commits:
        leaders[c["leader"]] = c["index"]
        for d in c["certificates"]:
            committed_by.setdefault(d, c["index"])
    schedule = {r: a for r, a in meta.get("leader_schedule", [])}

    def xy(rnd, author):
        return left + (rnd - lo) * col + col // 2, top + author * row + row // 2

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="16" font-size="13" font-weight="bold">DAG of authority 0, rounds {lo}..{hi} '
           f'({esc(meta["protocol"])}, {n} authorities)</text>']
    for a in range(n):
        _, y = xy(lo, a)
        out.append(f'<text x="8" y="{y + 4}">auth {a}</text>')
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - 20}" y2="{y}" stroke="#eee"/>')
    for r in range(lo, hi + 1):
        x, _ = xy(r, 0)
        if r % 2 == 0 or hi - lo <= 40:
            out.append(f'<text x="{x}" y="{top - 6}" text-anchor="middle" fill="#666">{r}</text>')
        if r in schedule:  # leader slot, whether or not a certificate exists
            _, y = xy(r, schedule[r])
            out.append(f'<rect x="{x - 11}" y="{y - 11}" width="22" height="22" fill="none" '
                       f'stroke="#bbb" stroke-dasharray="2,2"/>')
    visible = [c for c in certs.values() if lo <= c["round"] <= hi]
    for c in visible:  # edges first, under the nodes
        x2, y2 = xy(c["round"], c["author"])
        for p in c["parents"]:
            pc = certs.get(p)
            if pc is None or pc["round"] < lo:
                continue
            x1, y1 = xy(pc["round"], pc["author"])
            colour = "#c8c8c8"
            if c["digest"] in leaders:
                colour = "#555"
            out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="0.7"/>')
    for c in sorted(visible, key=lambda c: (c["round"], c["author"])):
        x, y = xy(c["round"], c["author"])
        idx = committed_by.get(c["digest"])
        fill = "#d9d9d9" if idx is None else PALETTE[idx % len(PALETTE)]
        title = f'round {c["round"]} author {c["author"]} {c["digest"][:8]}'
        title += " uncommitted" if idx is None else f" committed in sub-DAG {idx}"
        if c["digest"] in leaders:
            out.append(f'<circle cx="{x}" cy="{y}" r="10" fill="{fill}" stroke="black" stroke-width="2">'
                       f'<title>{esc(title)} (leader)</title></circle>')
            out.append(f'<text x="{x}" y="{y + 4}" text-anchor="middle" fill="white" font-size="9" '
                       f'font-weight="bold">{leaders[c["digest"]]}</text>')
        else:
            out.append(f'<circle cx="{x}" cy="{y}" r="5.5" fill="{fill}" stroke="#333" stroke-width="0.5">'
                       f'<title>{esc(title)}</title></circle>')
    ly = top + n * row + 25
    out.append(f'<circle cx="{left}" cy="{ly}" r="9" fill="{PALETTE[0]}" stroke="black" stroke-width="2"/>'
               f'<text x="{left + 14}" y="{ly + 4}">committed leader (number: consensus index)</text>')
    out.append(f'<circle cx="{left + 290}" cy="{ly}" r="5.5" fill="{PALETTE[1]}"/>'
               f'<text x="{left + 300}" y="{ly + 4}">certificate, coloured by the sub-DAG that committed it</text>')
    out.append(f'<circle cx="{left + 630}" cy="{ly}" r="5.5" fill="#d9d9d9" stroke="#333" stroke-width="0.5"/>'
               f'<text x="{left + 640}" y="{ly + 4}">not committed</text>')
    out.append(f'<rect x="{left + 740}" y="{ly - 9}" width="18" height="18" fill="none" stroke="#bbb" '
               f'stroke-dasharray="2,2"/><text x="{left + 764}" y="{ly + 4}">leader slot</text>')
    out.append("</svg>")
    return "\n".join(out)


def nice_ceiling(v):
    for e in range(-3, 8):
        for m in (1, 2, 5):
            c = m * 10 ** e
            if c >= v:
                return c
    return v


def fault_colours(summary, kinds):
    """Period kind -> colour: the summary's, else a fallback by order."""
    colours = {k["kind"]: k["color"] for k in summary.get("fault_period_kinds", [])}
    spare = iter(FALLBACK_FAULT_COLORS * (1 + len(kinds) // len(FALLBACK_FAULT_COLORS)))
    return {k: colours[k] if k in colours else next(spare) for k in kinds}


def latency_svg(summary):
    res = summary["result"]
    points = summary.get("batch_commit_latency_ms", [])
    periods = summary.get("fault_periods", [])
    end = max(res.get("sim_time_s", 1.0), 1e-3)
    width, height, left, right, top, bottom = 900, 380, 70, 20, 40, 70
    pw, ph = width - left - right, height - top - bottom
    ymax = nice_ceiling(max([p[1] for p in points] + [1.0]) * 1.05)

    def X(t):
        return left + pw * t / end

    def Y(ms):
        return top + ph - ph * ms / ymax

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="13" font-weight="bold">Batch commit latency over virtual time '
           f'(seed {res.get("seed")}, {res.get("nodes")} authorities)</text>']
    # Fault periods: one lane per kind, shaded over the plot.
    kinds = sorted({p["kind"] for p in periods})
    colours = fault_colours(summary, kinds)
    for p in periods:
        colour = colours[p["kind"]]
        x1, x2 = X(p["start_s"]), X(p["end_s"])
        out.append(f'<rect x="{x1:.1f}" y="{top}" width="{max(x2 - x1, 1):.1f}" height="{ph}" fill="{colour}" '
                   f'fill-opacity="0.12"><title>{esc(p["label"])}: {p["start_s"]:.3f}-{p["end_s"]:.3f} s'
                   f'</title></rect>')
        lane = kinds.index(p["kind"])
        out.append(f'<rect x="{x1:.1f}" y="{top + ph + 22 + lane * 7}" width="{max(x2 - x1, 1):.1f}" height="5" '
                   f'fill="{colour}"><title>{esc(p["label"])}</title></rect>')
    for i in range(6):
        v = ymax * i / 5
        y = Y(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    step = nice_ceiling(end / 10)
    t = 0.0
    while t <= end + 1e-9:
        x = X(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 4}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 16}" text-anchor="middle">{t:g}</text>')
        t += step
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 6}" text-anchor="middle">virtual time (s)</text>')
    out.append(f'<text x="16" y="{top + ph / 2}" transform="rotate(-90 16 {top + ph / 2})" '
               f'text-anchor="middle">latency (ms)</text>')
    for t, ms in points:
        out.append(f'<circle cx="{X(t):.1f}" cy="{Y(ms):.1f}" r="1.6" fill="#222" fill-opacity="0.6"/>')
    heal = summary.get("heal_s", 0)
    if heal > 0:
        out.append(f'<line x1="{X(heal):.1f}" y1="{top}" x2="{X(heal):.1f}" y2="{top + ph}" stroke="#2ca02c" '
                   f'stroke-width="1.5" stroke-dasharray="5,3"/>')
        out.append(f'<text x="{X(heal) + 4:.1f}" y="{top + 12}" fill="#2ca02c">heal</text>')
    for v in summary.get("violations", []):
        x = X(min(v["at_s"], end))
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="red" stroke-width="2">'
                   f'<title>{esc(v["checker"])}: {esc(v["evidence"])}</title></line>')
        out.append(f'<text x="{x - 4:.1f}" y="{top + 24}" fill="red" text-anchor="end">{esc(v["checker"])}</text>')
    lx = left
    for k in kinds:
        colour = colours[k]
        out.append(f'<rect x="{lx}" y="{top - 16}" width="10" height="10" fill="{colour}" fill-opacity="0.5"/>'
                   f'<text x="{lx + 14}" y="{top - 7}">{esc(k)}</text>')
        lx += 20 + 7 * len(k)
    out.append("</svg>")
    return "\n".join(out)


def page(meta, summary, dag, latency, lo, hi):
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>narwhal_sim run</title>",
             "<style>body{font-family:sans-serif;margin:20px;color:#222}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
             ".scroll{overflow-x:auto;border:1px solid #ddd;padding:4px}</style></head><body>"]
    title = "narwhal_sim run"
    if summary:
        r = summary["result"]
        title = (f"seed {r['seed']}: {r['nodes']} authorities, {r['sim_time_s']} s, "
                 f"{r['violations']} violation(s)" + (", OUTSIDE THE MODEL" if r.get("outside_model") else ""))
    parts.append(f"<h2>{esc(title)}</h2>")
    if summary:
        r = summary["result"]
        rows = [("trace hash", r["trace_hash"]), ("committed sub-DAGs", r["committed_sub_dags"]),
                ("committed transactions", f'{r["committed_transactions"]} of {r["accepted_transactions"]} accepted'),
                ("last committed round", r["last_committed_round"]),
                ("batch commit latency p50 / p99", f'{r["commit_latency_ms_p50"]} / {r["commit_latency_ms_p99"]} ms'),
                ("heal at", f'{summary.get("heal_s", 0)} s')]
        parts.append("<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows) + "</table>")
        for v in summary.get("violations", []):
            parts.append(f"<p style='color:red'><b>VIOLATION {esc(v['checker'])}</b> at {v['at_s']:.3f} s: "
                         f"{esc(v['evidence'])}</p>")
    if latency:
        parts.append("<h3>Commit latency</h3>" + latency)
    parts.append(f"<h3>DAG (rounds {lo}..{hi}; hover a node for details)</h3><div class='scroll'>{dag}</div>")
    if summary and summary.get("faults"):
        parts.append("<h3>Fault schedule</h3><table><tr><th>at (s)</th><th>fault</th></tr>")
        for f in summary["faults"]:
            parts.append(f"<tr><td>{f['at_s']:.3f}</td><td>{esc(f['describe'])}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dag", required=True, help="narwhal_sim --export_dag file (JSON Lines)")
    ap.add_argument("--summary", help="narwhal_sim --run_summary file (JSON)")
    ap.add_argument("--out", help="HTML page to write")
    ap.add_argument("--dag_svg", help="also write the DAG as a standalone SVG")
    ap.add_argument("--latency_svg", help="also write the latency plot as a standalone SVG (needs --summary)")
    ap.add_argument("--rounds", default="", help="A..B: the rounds to draw (default 0..60)")
    args = ap.parse_args()
    meta, certs, commits = read_dag(args.dag)
    max_round = max([c["round"] for c in certs.values()] + [0])
    lo, hi = parse_rounds(args.rounds, max_round)
    summary = None
    if args.summary:
        with open(args.summary) as f:
            summary = json.load(f)
    dag = dag_svg(meta, certs, commits, lo, hi)
    latency = latency_svg(summary) if summary else None
    if args.dag_svg:
        open(args.dag_svg, "w").write(dag)
    if args.latency_svg:
        if latency is None:
            sys.exit("--latency_svg needs --summary")
        open(args.latency_svg, "w").write(latency)
    if args.out:
        open(args.out, "w").write(page(meta, summary, dag, latency, lo, hi))
    if not (args.out or args.dag_svg or args.latency_svg):
        sys.exit("nothing to write: give --out, --dag_svg or --latency_svg")


if __name__ == "__main__":
    main()
