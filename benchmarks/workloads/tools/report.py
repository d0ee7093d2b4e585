#!/usr/bin/env python3
"""Turns the samples of benchmarks/workloads/run.sh into results JSON, an SVG chart of ratios and the
"## Workload suite (mounted)" section of benchmarks/README.md. Standard library only.

  report.py --samples samples.tsv --meta meta.json --json latest.json --svg ratios.svg [--readme README.md]
  report.py --from-json latest.json --svg ratios.svg --readme README.md     # re-render from saved results

samples.tsv columns: rep, label, system, seconds, status (ok|failed), note.
"""
import argparse
import html
import json
import math
import os
import statistics
import sys

SECTION = "## Workload suite (mounted)"
NATIVE = "native"
FUSE_PEER = "fuse-overlayfs"
SYSTEM_TITLES = {
    "native": "native",
    "overlay": "overlayfs (kernel)",
    "fuse-overlayfs": "fuse-overlayfs",
    "agentfs": "AgentFs",
    "agentfs-passthrough": "AgentFs passthrough",
    "agentfs-nowb": "AgentFs no writeback",
    "agentfs-wb": "AgentFs writeback",
    "agentfs-run": "AgentFs in agentfs run",
}
COLORS = {
    "overlay": "#4C78A8",
    "fuse-overlayfs": "#F58518",
    "agentfs": "#54A24B",
    "agentfs-passthrough": "#B279A2",
    "agentfs-nowb": "#72B7B2",
    "agentfs-wb": "#B279A2",
    "agentfs-run": "#E45756",
}

# (label, workload of run.sh, title template, target ratio to native or None, is a sub-row)
ROWS = [
    ("seqread-cold", "seqread-cold", "Sequential read of a {seq} base file, cold cache", 1.5, False),
    ("seqread-warm", "seqread-warm", "Sequential read of a {seq} base file, warm cache", 1.1, False),
    ("seqwrite-fsync", "seqwrite", "Sequential write of {seq} + fsync", 2.0, False),
    ("randrw-4k", "randrw", "4 KiB random read/write, {rand_ops} ops on a {rand} base file", None, False),
    ("smallfiles", "smallfiles", "{small} small files: create, stat, read, delete", 3.0, False),
    ("smallfiles-create", "smallfiles", "... create ({small_size} B each)", None, True),
    ("smallfiles-stat", "smallfiles", "... stat", None, True),
    ("smallfiles-read", "smallfiles", "... read", None, True),
    ("smallfiles-delete", "smallfiles", "... delete", None, True),
    ("git-clone", "git", "`git clone` ({git_files} files, 3 commits)", 2.0, False),
    ("git-status", "git", "`git status` in the clone", None, False),
    ("git-status-base", "tree", "`git status` in a base checkout ({git_files} files), warm", 1.3, False),
    ("tree-read-warm", "tree", "read every file of that checkout, warm", 1.5, False),
    ("cp-a", "tree", "`cp -a` of that checkout into the mount", 3.0, False),
    ("npm-install", "npm", "`npm install --offline` ({npm_deps})", 2.0, False),
    ("npm-rm", "npm", "`rm -rf node_modules`", 3.0, False),
    ("make-j2", "make", "`make -j2` ({build} C files)", 1.5, False),
]
# the warm-read target is for passthrough; without a passthrough system it is shown against AgentFs
PASSTHROUGH_ONLY = {"seqread-warm"}


def mib(n):
    return f"{n // 1024} GiB" if n >= 1024 and n % 1024 == 0 else f"{n} MiB"


def fmt_s(v):
    if v is None:
        return "—"
    return f"{v:.3f} s" if v < 10 else f"{v:.2f} s"


def fmt_r(v):
    return "—" if v is None else f"{v:.2f}×"


def load_samples(path):
    samples, failures = {}, {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            rep, label, system, secs, status = parts[:5]
            note = parts[5] if len(parts) > 5 else ""
            if status == "ok" and secs:
                samples.setdefault(label, {}).setdefault(system, []).append(float(secs))
            else:
                failures.setdefault(label, {}).setdefault(system, []).append({"rep": int(rep), "error": note})
    return samples, failures


def build_results(samples, failures, meta):
    systems = meta["systems"]
    # a failure recorded under a workload name (a mount that failed) counts for each of its rows
    wl_rows = {}
    for label, wl, *_ in ROWS:
        wl_rows.setdefault(wl, []).append(label)
    for wl, labels in wl_rows.items():
        if wl in failures and wl not in labels:
            for system, errs in failures[wl].items():
                for label in labels:
                    failures.setdefault(label, {}).setdefault(system, []).extend(errs)

    medians = {label: {s: statistics.median(v) for s, v in by.items()} for label, by in samples.items()}
    # per-repetition ratios (each system against native's sample of the same repetition), for reference
    paired = {}
    with open(meta["_samples_path"]) if meta.get("_samples_path") else open(os.devnull) as f:
        by_rep = {}
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) >= 5 and p[4] == "ok" and p[3]:
                by_rep.setdefault((p[1], p[0]), {})[p[2]] = float(p[3])
        for (label, _), vals in by_rep.items():
            if NATIVE in vals and vals[NATIVE] > 0:
                for s, v in vals.items():
                    paired.setdefault(label, {}).setdefault(s, []).append(v / vals[NATIVE])
    meta.pop("_samples_path", None)
    ratios = {}
    for label, by in medians.items():
        base = by.get(NATIVE)
        if base:
            ratios[label] = {s: v / base for s, v in by.items()}
    sz = meta.get("sizes", {})
    fill = {
        "seq": mib(sz.get("seq_mib", 1024)), "rand": mib(sz.get("rand_mib", 256)),
        "rand_ops": f"{sz.get('rand_ops', 0) // 1000}k" if sz.get("rand_ops", 0) >= 1000 else sz.get("rand_ops", 0),
        "small": f"{sz.get('small_files', 0) // 1000}k" if sz.get("small_files", 0) >= 1000 else sz.get("small_files", 0),
        "small_size": sz.get("small_size", 0), "git_files": sz.get("git_files", 0),
        "build": sz.get("build_modules", 0),
        "npm_deps": ", ".join(d.split(":")[0].strip() for d in sz.get("npm_dependencies", "").split(",") if d.strip()),
    }
    agentfs_systems = [s for s in systems if s.startswith("agentfs")]
    pt = "agentfs-passthrough" if "agentfs-passthrough" in systems else "agentfs"
    rows = []
    for label, wl, title, target, sub in ROWS:
        if label not in medians and label not in failures:
            continue
        checks = {}
        for s in agentfs_systems:
            r = ratios.get(label, {}).get(s)
            fuse = ratios.get(label, {}).get(FUSE_PEER)
            c = {}
            applies = target is not None and (label not in PASSTHROUGH_ONLY or s == pt)
            if applies:
                c["target"] = target
                c["target_met"] = None if r is None else r <= target
            if fuse is not None and not sub:
                c["vs_fuse_overlayfs"] = None if r is None else r / fuse
                c["fuse_met"] = None if r is None else r <= fuse
            checks[s] = c
        rows.append({
            "label": label, "workload": wl, "title": title.format(**fill), "target": target,
            "target_for": pt if label in PASSTHROUGH_ONLY else "agentfs*", "sub": sub,
            "samples": samples.get(label, {}), "median": medians.get(label, {}), "ratio": ratios.get(label, {}),
            "paired_ratio_median": {s: statistics.median(v) for s, v in paired.get(label, {}).items()},
            "failures": failures.get(label, {}), "checks": checks,
        })
    ck = {}
    for label, by in samples.items():
        if label.startswith(("checkpoint-", "branch-")) or label == "cli-noop":
            ck[label] = {"samples": by.get("agentfs", []), "median": medians[label].get("agentfs")}
    for label, by in failures.items():
        if label.startswith(("checkpoint", "branch-")) or label == "cli-noop":
            ck.setdefault(label, {"samples": [], "median": None})["failures"] = by
    return {"meta": meta, "systems": systems, "rows": rows, "checkpoint": ck, "failures": failures}


# ---- SVG -----------------------------------------------------------------------------------------
def svg_chart(res):
    systems = [s for s in res["systems"] if s != NATIVE]
    rows = [r for r in res["rows"] if not r["sub"] and r["ratio"]]
    vals = [v for r in rows for s, v in r["ratio"].items() if s != NATIVE and v > 0]
    vals += [r["target"] for r in rows if r["target"]]
    lo = min([0.5] + [v for v in vals]) / 1.3
    hi = max([2.0] + vals) * 1.35
    lo = 2 ** math.floor(math.log2(lo))
    hi = 2 ** math.ceil(math.log2(hi))
    left, right, top, bar, gap = 400, 60, 60, 13, 14
    width = 1060
    plot_w = width - left - right
    group_h = bar * len(systems) + gap
    height = top + group_h * len(rows) + 60
    x = lambda v: left + (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo)) * plot_w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    m = res["meta"]
    out.append(f'<text x="{left}" y="22" font-size="15" font-weight="bold">Time relative to native '
               f'(lower is better; log scale)</text>')
    out.append(f'<text x="{left}" y="40" fill="#555">median of {m["reps"]} run(s), {html.escape(m["date"])}, '
               f'agentfs {html.escape(m["agentfs_commit"])}; red tick: target</text>')
    t = lo
    while t <= hi + 1e-9:
        xx = x(t)
        out.append(f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 50}" '
                   f'stroke="{"#333" if abs(t - 1) < 1e-9 else "#ddd"}" stroke-width="{1.5 if abs(t - 1) < 1e-9 else 1}"/>')
        lab = f"{t:g}×"
        out.append(f'<text x="{xx:.1f}" y="{height - 36}" text-anchor="middle" fill="#333">{lab}</text>')
        t *= 2
    for i, r in enumerate(rows):
        y0 = top + i * group_h
        title = r["title"].replace("`", "")
        if len(title) > 62:
            title = title[:60] + "…"
        out.append(f'<text x="{left - 8}" y="{y0 + group_h / 2 - 2:.1f}" text-anchor="end">{html.escape(title)}</text>')
        for j, s in enumerate(systems):
            v = r["ratio"].get(s)
            yy = y0 + j * bar
            if v is None:
                failed = s in r["failures"]
                out.append(f'<text x="{left + 4}" y="{yy + bar - 3}" fill="#c00" font-size="10">'
                           f'{"failed" if failed else "n/a"} ({html.escape(s)})</text>')
                continue
            out.append(f'<rect x="{left}" y="{yy}" width="{max(1, x(v) - left):.1f}" height="{bar - 2}" '
                       f'fill="{COLORS.get(s, "#999")}"><title>{html.escape(s)}: {v:.2f}×</title></rect>')
            out.append(f'<text x="{x(v) + 4:.1f}" y="{yy + bar - 3}" font-size="10" fill="#333">{v:.2f}</text>')
        if r["target"]:
            xt = x(r["target"])
            out.append(f'<line x1="{xt:.1f}" y1="{y0 - 2}" x2="{xt:.1f}" y2="{y0 + bar * len(systems)}" '
                       f'stroke="#d62728" stroke-width="2.5"/>')
    lx = left
    for s in systems:
        out.append(f'<rect x="{lx}" y="{height - 22}" width="12" height="12" fill="{COLORS.get(s, "#999")}"/>')
        name = SYSTEM_TITLES.get(s, s)
        out.append(f'<text x="{lx + 16}" y="{height - 12}">{html.escape(name)}</text>')
        lx += 30 + 7 * len(name)
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- markdown ------------------------------------------------------------------------------------
def markdown(res, svg_rel):
    m, systems = res["meta"], res["systems"]
    afs = [s for s in systems if s.startswith("agentfs")]
    others = [s for s in systems if s != NATIVE]
    L = [SECTION, ""]
    L.append("`benchmarks/workloads/run.sh` runs real programs (dd, fio, git, npm, make and a small-file C "
             "program) over each system mounted over the same base directory, on a fresh journaled ext4 image "
             "on a loop device, with a fresh mount (new upper dir or store) for every measurement. Systems are "
             "interleaved within each repetition (in an order that rotates from one repetition to the next); "
             "every workload starts with its inputs and programs in the page cache and nothing dirty, except the "
             "cold read, which drops the page cache after mounting; figures are medians, and ratios divide by native's median of "
             "the same run (time relative to native, lower is better). Noisy by nature: compare ratios, "
             "not seconds across machines.")
    L.append("")
    L.append("```sh\nsudo bash benchmarks/workloads/run.sh            # REPS=3, 1 GiB files: about 20 minutes on 2 cores\n"
             "sudo REPS=5 bash benchmarks/workloads/run.sh     # about 28 minutes\n"
             "sudo QUICK=1 bash benchmarks/workloads/run.sh    # smoke run: small sizes, 1 repetition, about 4 minutes\n```")
    L.append("")
    L.append("Options (environment): `REPS`, `QUICK=1`, `SYSTEMS` (subset of native overlay fuse-overlayfs agentfs "
             "agentfs-passthrough agentfs-nowb), `WORKLOADS` (subset of seqread-cold seqread-warm seqwrite randrw "
             "smallfiles git npm make checkpoint), `ROTATE=0`, `NO_README=1`, `WL_RESULTS=DIR` (a side experiment: results "
             "there, README untouched), `AGENTFS_DLL` (run that build instead of building the checkout). Results: "
             "`benchmarks/workloads/results/latest.json` (every sample, and per row the median of the per-repetition "
             "ratios, `paired_ratio_median`) and the chart below. The script installs what it lacks with apt-get, "
             "fetches the npm packages once into `/var/tmp/agentfs-workloads-npm-cache` (the timed installs are "
             "offline), and on exit unmounts everything, detaches the loop device and deletes the image.")
    L.append("")
    L.append("Systems: **native** is a plain copy of the base directory; **overlayfs** is the kernel's "
             "(`mount -t overlay`); **fuse-overlayfs** the Debian package "
             f"({m.get('fuse_overlayfs') or 'version unknown'}); **AgentFs** is `agentfs mount` with its defaults "
             "(write-through since issue 11; before it, the kernel's writeback cache)." +
             (" **AgentFs passthrough** is `agentfs mount --passthrough`." if "agentfs-passthrough" in systems else
              " AgentFs passthrough was not measured: `agentfs mount` has no `--passthrough` option in this build.") +
             (" **AgentFs no writeback** is `agentfs mount --no-writeback-cache`." if "agentfs-nowb" in systems else "") +
             (" **AgentFs writeback** is `agentfs mount --writeback-cache`." if "agentfs-wb" in systems else ""))
    L.append("")
    L.append(f"Latest run: {m['date']}, {'QUICK (smoke) run, ' if m['quick'] else ''}{m['reps']} repetition(s), "
             f"agentfs {m['agentfs_commit']}, Linux {m['kernel']}, {m['cpus']} CPUs, {m['mem_gib']} GiB RAM, "
             f"{'fio' if m.get('fio') else 'C pread/pwrite program'} for random I/O, wall time "
             f"{m['wall_seconds'] // 60} min {m['wall_seconds'] % 60} s; load average {m.get('loadavg_start', '?')} at the start "
             f"and {m.get('loadavg_end', '?')} at the end (other jobs on the machine make the figures noisier).")
    L.append("")
    L.append(f"![Time relative to native per workload and system]({svg_rel})")
    L.append("")
    # ratios table
    L.append("### Time relative to native (median; lower is better)")
    L.append("")
    hdr = ["Workload", "native"] + [SYSTEM_TITLES.get(s, s) for s in others] + ["Target for AgentFs"]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "|".join(["---"] + ["---:"] * (len(hdr) - 2) + ["---"]) + "|")
    missed = []
    for r in res["rows"]:
        cells = [r["title"] if not r["sub"] else "&nbsp;&nbsp;" + r["title"]]
        cells.append(fmt_s(r["median"].get(NATIVE)) if NATIVE in r["median"] else
                     ("**failed**" if NATIVE in r["failures"] else "—"))
        for s in others:
            v = r["ratio"].get(s)
            if v is None:
                cells.append("**failed**" if s in r["failures"] else "—")
                continue
            cell = fmt_r(v)
            c = r["checks"].get(s, {})
            marks = []
            if "target_met" in c and c["target_met"] is not None:
                marks.append("✅" if c["target_met"] else "❌")
                if not c["target_met"]:
                    missed.append(f"{r['title']}: {SYSTEM_TITLES.get(s, s)} {v:.2f}× against ≤ {c['target']:g}× "
                                  f"({(v / c['target'] - 1) * 100:.0f}% over)")
            if "fuse_met" in c and c["fuse_met"] is not None:
                if not c["fuse_met"]:
                    marks.append("🐢")
                    missed.append(f"{r['title']}: {SYSTEM_TITLES.get(s, s)} {v:.2f}× is slower than fuse-overlayfs "
                                  f"({r['ratio'][FUSE_PEER]:.2f}×, {(c['vs_fuse_overlayfs'] - 1) * 100:.0f}% slower)")
            if s in r["failures"]:
                marks.append(f"({len(r['failures'][s])} failed)")
            cells.append(cell + (" " + " ".join(marks) if marks else ""))
        if r["target"] is not None and not r["sub"]:
            who = " (passthrough)" if r["label"] in PASSTHROUGH_ONLY else ""
            cells.append(f"≤ {r['target']:g}×{who}, ≤ fuse-overlayfs")
        elif not r["sub"]:
            cells.append("≤ fuse-overlayfs")
        else:
            cells.append("")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    nverify = sum(len(es) for label, by in res.get("failures", {}).items() if label.startswith("verify-")
                  for es in by.values())
    L.append("Each timed command is followed by untimed checks of what it left: `cmp` of the data read or written, "
             "`git fsck` and a re-hash of every file of the clone, loading the installed packages with node, the "
             "object count and a `make -q` (timestamps) after the build, content checks in the small-file program. "
             + (f"**{nverify} check(s) failed** (listed below)." if nverify else "None failed in this run."))
    L.append("")
    L.append("✅ target met, ❌ target missed, 🐢 slower than fuse-overlayfs. Native is shown in seconds. "
             "The warm-read target (≤ 1.1×) is for passthrough" +
             ("" if "agentfs-passthrough" in systems else "; without a passthrough mode it is checked against AgentFs") + ".")
    L.append("")
    if missed:
        L.append("Missed:")
        L.append("")
        L.extend(f"- {x}" for x in missed)
        L.append("")
    # medians table
    L.append("### Medians (seconds)")
    L.append("")
    hdr = ["Workload"] + [SYSTEM_TITLES.get(s, s) for s in systems]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "|".join(["---"] + ["---:"] * len(systems)) + "|")
    for r in res["rows"]:
        cells = [r["title"] if not r["sub"] else "&nbsp;&nbsp;" + r["title"]]
        for s in systems:
            v = r["median"].get(s)
            if v is None:
                cells.append("failed" if s in r["failures"] else "—")
            else:
                sm = r["samples"].get(s, [])
                spread = f" ({min(sm):.2f}–{max(sm):.2f})" if len(sm) > 1 else ""
                cells.append(f"{v:.3f}{spread}")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    # checkpoint
    ck = res["checkpoint"]
    if ck:
        sz = m.get("sizes", {})
        small, big = sz.get("checkpoint_small_mib", 10), sz.get("checkpoint_big_mib", 1024)
        L.append("### Checkpoint and branch (AgentFs only)")
        L.append("")
        L.append(f"`agentfs checkpoint STORE` and `agentfs branch STORE NEW --from ID` after writing {mib(small)} and "
                 f"then {mib(big)} of file data through the mount (store mounted while timed"
                 f"{' — not allowed by this build, so unmounted' if any('unmounted' in n for n in m.get('notes', [])) else ''}). "
                 "Each figure includes starting the command (.NET); `agentfs branches STORE` (a read-only "
                 "command) is shown as that floor. O(1) means the two columns match.")
        L.append("")
        L.append(f"| Command | {mib(small)} stored | {mib(big)} stored |")
        L.append("|---|---:|---:|")

        def cell(label):
            e = ck.get(label)
            if not e:
                return "—"
            if e.get("median") is None:
                return "**failed**" if e.get("failures") else "—"
            return f"{e['median'] * 1000:.0f} ms"
        L.append(f"| `agentfs branches` (floor) | {cell('cli-noop')} | |")
        L.append(f"| `agentfs checkpoint` | {cell(f'checkpoint-{small}M')} | {cell(f'checkpoint-{big}M')} |")
        L.append(f"| `agentfs branch --from` | {cell(f'branch-{small}M')} | {cell(f'branch-{big}M')} |")
        if f"checkpoint-again-{big}M" in ck:
            L.append(f"| `agentfs checkpoint` again at once (nothing new) | | {cell(f'checkpoint-again-{big}M')} |")
        L.append("")
    titles = {r["label"]: r["title"] for r in res["rows"]}
    wl_labels = {r["workload"] for r in res["rows"]} - {r["label"] for r in res["rows"]}
    fails = [(titles.get(label, label), s, e) for label, by in sorted(res.get("failures", {}).items())
             if label not in wl_labels or not any(r["workload"] == label for r in res["rows"])
             for s, es in by.items() for e in es]
    if fails or m.get("notes"):
        L.append("### Failures and notes")
        L.append("")
        for title, s, e in fails:
            L.append(f"- {title} on {SYSTEM_TITLES.get(s, s)}, repetition {e['rep']}: `{e['error'].strip()}`")
        for n in m.get("notes", []):
            L.append(f"- {n}")
        L.append("")
    return "\n".join(L) + "\n"


def update_readme(path, section):
    text = open(path).read() if os.path.exists(path) else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, l in enumerate(lines) if l.rstrip() == SECTION), None)
    if start is None:
        if text and not text.endswith("\n"):
            text += "\n"
        new = text + ("\n" if text else "") + section
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + tail if tail else "")
    tmp = path + ".tmp-workloads"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples")
    ap.add_argument("--meta")
    ap.add_argument("--from-json")
    ap.add_argument("--json")
    ap.add_argument("--svg")
    ap.add_argument("--readme")
    a = ap.parse_args()
    if a.from_json:
        res = json.load(open(a.from_json))
        for row in res["rows"]:  # results saved before paired ratios were kept: rebuild them (one sample per rep)
            smp = row["samples"]
            if "paired_ratio_median" not in row and NATIVE in smp and len({len(v) for v in smp.values()}) == 1:
                row["paired_ratio_median"] = {s: statistics.median(x / n for x, n in zip(v, smp[NATIVE]))
                                              for s, v in smp.items()}
    else:
        samples, failures = load_samples(a.samples)
        meta = json.load(open(a.meta))
        meta["_samples_path"] = a.samples
        res = build_results(samples, failures, meta)
    if a.json:
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
            f.write("\n")
    if a.svg:
        with open(a.svg, "w") as f:
            f.write(svg_chart(res))
    md = markdown(res, "workloads/results/ratios.svg")
    if a.readme:
        update_readme(a.readme, md)
    else:
        sys.stdout.write(md)


if __name__ == "__main__":
    main()
