"""``--plot out.png``: throughput against size per row, numtorch/NumPy/PyTorch side by side.

Streaming rows plot GB/s with the measured bandwidth as a roofline; others plot Melem/s or GFLOP/s;
fixed-shape rows (latency, autograd) share one bar panel in microseconds. PNG/PDF need matplotlib (the
``bench`` extra: ``pip install numtorch[bench]``); ``.svg`` uses a small built-in writer with no dependency.
"""
import math

from .runner import throughput

COLORS = {"numtorch": "#1f77b4", "numpy": "#ff7f0e", "torch": "#2ca02c"}
NAMES = {"numtorch": "numtorch", "numpy": "NumPy", "torch": "PyTorch"}


class PlotUnavailable(RuntimeError):
    pass


def panels(results, bw_gbs):
    """[{title, unit, xs, ys: {lib: [...]}, roof}] per row, plus one 'latency' bar panel."""
    out, bars = {}, []
    for r in results:
        if r["family"] in ("latency", "autograd"):
            bars.append((r["row"], {lib: r["libs"][lib].get("median_s") for lib in COLORS}))
            continue
        p = out.setdefault(r["row"], {"title": r["row"], "unit": None, "xs": [], "ys": {k: [] for k in COLORS},
                                      "roof": None})
        p["xs"].append(max(1, r["elements"]))
        for lib in COLORS:
            tp = throughput(r, lib)
            p["ys"][lib].append(tp[0] if tp else None)
            if tp:
                p["unit"] = tp[1]
        if p["unit"] == "GB/s":
            p["roof"] = bw_gbs
    res = [p for p in out.values() if p["unit"]]
    if bars:
        res.append({"title": "latency (us)", "bars": bars})
    return res


def save(results, bw_gbs, path):
    ps = panels(results, bw_gbs)
    if not ps:
        raise PlotUnavailable("nothing to plot (no timed rows)")
    if path.lower().endswith(".svg"):
        with open(path, "w") as f:
            f.write(svg(ps))
        return path
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib for PNG/PDF (pip install 'numtorch[bench]' or "
                              "pip install matplotlib); '--plot FILE.svg' needs nothing") from None
    cols = 5
    rows = math.ceil(len(ps) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, p in zip(axes.flat, ps):
        if "bars" in p:
            _mpl_bars(ax, p)
        else:
            for lib, ys in p["ys"].items():
                pts = [(x, y) for x, y in zip(p["xs"], ys) if y]
                if pts:
                    ax.plot(*zip(*pts), "o-", color=COLORS[lib], label=NAMES[lib], ms=3)
            if p["roof"]:
                ax.axhline(p["roof"], color="red", ls="--", lw=1, label="STREAM bandwidth")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("elements", fontsize=7)
        ax.set_title(f"{p['title']}" + (f" ({p['unit']})" if p.get("unit") else ""), fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(ps):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=4, fontsize=8)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def _mpl_bars(ax, p):
    names = [n for n, _ in p["bars"]]
    w = 0.27
    for k, lib in enumerate(COLORS):
        ys = [(v[lib] or 0) * 1e6 for _, v in p["bars"]]
        ax.bar([i + (k - 1) * w for i in range(len(names))], ys, w, color=COLORS[lib], label=NAMES[lib])
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=6)
    ax.set_yscale("log")


# -- dependency-free SVG ----------------------------------------------------------------------------

PW, PH, ML, MB, MT = 260, 190, 46, 28, 22


def svg(ps, cols=5):
    rows = math.ceil(len(ps) / cols)
    w, h = cols * PW, rows * PH + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
             f'font-size="10"><rect width="100%" height="100%" fill="white"/>']
    x = 10
    for lib, c in COLORS.items():
        parts.append(f'<rect x="{x}" y="8" width="12" height="8" fill="{c}"/><text x="{x + 16}" y="16">'
                     f'{NAMES[lib]}</text>')
        x += 90
    parts.append(f'<line x1="{x}" y1="12" x2="{x + 14}" y2="12" stroke="red" stroke-dasharray="4 2"/>'
                 f'<text x="{x + 18}" y="16">STREAM bandwidth</text>')
    for i, p in enumerate(ps):
        ox, oy = (i % cols) * PW, 30 + (i // cols) * PH
        parts.append(_svg_bars(p, ox, oy) if "bars" in p else _svg_lines(p, ox, oy))
    parts.append("</svg>")
    return "\n".join(parts)


def _scale(lo, hi, a, b):
    lo, hi = math.log10(lo), math.log10(hi)
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    return lambda v: a + (math.log10(v) - lo) / (hi - lo) * (b - a), lo, hi


def _frame(ox, oy, title):
    x0, y0, x1, y1 = ox + ML, oy + MT, ox + PW - 10, oy + PH - MB
    return (x0, y0, x1, y1), (f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="none" '
                              f'stroke="#888"/><text x="{ox + ML}" y="{oy + 14}" font-weight="bold">{title}</text>')


def _ticks(lo, hi, f, x0, y0, x1, y1, axis):
    out = []
    for e in range(math.floor(lo), math.ceil(hi) + 1):
        if lo - 1e-9 <= e <= hi + 1e-9:
            lab = f"1e{e}" if abs(e) > 2 else f"{10.0 ** e:g}"
            if axis == "x":
                out.append(f'<text x="{f(10.0 ** e):.1f}" y="{y1 + 12}" text-anchor="middle">{lab}</text>')
            else:
                out.append(f'<line x1="{x0}" x2="{x1}" y1="{f(10.0 ** e):.1f}" y2="{f(10.0 ** e):.1f}" '
                           f'stroke="#eee"/><text x="{x0 - 3}" y="{f(10.0 ** e) + 3:.1f}" text-anchor="end">{lab}</text>')
    return out


def _svg_lines(p, ox, oy):
    (x0, y0, x1, y1), frame = _frame(ox, oy, f"{p['title']} ({p['unit']})")
    ys = [y for v in p["ys"].values() for y in v if y] + ([p["roof"]] if p["roof"] else [])
    if not ys:
        return frame
    fx, xlo, xhi = _scale(min(p["xs"]), max(p["xs"]), x0 + 8, x1 - 8)
    fy, ylo, yhi = _scale(min(ys) / 1.5, max(ys) * 1.5, y1, y0)
    out = [frame] + _ticks(xlo, xhi, fx, x0, y0, x1, y1, "x") + _ticks(ylo, yhi, fy, x0, y0, x1, y1, "y")
    if p["roof"]:
        out.append(f'<line x1="{x0}" x2="{x1}" y1="{fy(p["roof"]):.1f}" y2="{fy(p["roof"]):.1f}" stroke="red" '
                   f'stroke-dasharray="4 2"/>')
    for lib, vals in p["ys"].items():
        pts = [(fx(x), fy(y)) for x, y in zip(p["xs"], vals) if y]
        if pts:
            out.append(f'<polyline fill="none" stroke="{COLORS[lib]}" stroke-width="1.5" points="'
                       + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts) + '"/>')
            out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2" fill="{COLORS[lib]}"/>' for a, b in pts]
    return "\n".join(out)


def _svg_bars(p, ox, oy):
    (x0, y0, x1, y1), frame = _frame(ox, oy, p["title"])
    vals = [v * 1e6 for _, d in p["bars"] for v in d.values() if v]
    if not vals:
        return frame
    fy, ylo, yhi = _scale(min(vals) / 2, max(vals) * 1.5, y1, y0)
    out = [frame] + _ticks(ylo, yhi, fy, x0, y0, x1, y1, "y")
    slot = (x1 - x0) / len(p["bars"])
    for i, (name, d) in enumerate(p["bars"]):
        for k, lib in enumerate(COLORS):
            if d[lib]:
                top = fy(d[lib] * 1e6)
                out.append(f'<rect x="{x0 + i * slot + 6 + k * (slot - 12) / 3:.1f}" y="{top:.1f}" '
                           f'width="{(slot - 12) / 3:.1f}" height="{y1 - top:.1f}" fill="{COLORS[lib]}"/>')
        out.append(f'<text x="{x0 + (i + 0.5) * slot:.1f}" y="{y1 + 12}" text-anchor="middle">{name}</text>')
    return "\n".join(out)
