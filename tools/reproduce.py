#!/usr/bin/python3
"""tools/reproduce.py — the papers' own figures and docs/results.md, for
tools/reproduce (python3 + numpy only).

  reproduce.py round-compute-ms RUN_DIR
      median compute seconds per round of a run, in whole milliseconds
  reproduce.py unfinished SWEEP_FILE
      the directory of every run of the sweep that did not finish
  reproduce.py with-latency SWEEP_FILE MS
      the sweep file with its axis transport.delay.latency_ms set to [MS]
  reproduce.py page --runs DIR --out DIR --plots DIR --elapsed S --lsgd BIN
      reads the sweeps under --runs (their sweep.jsonl, the runs' metrics
      and model.npy, and the compare.md `lsgd compare` wrote), writes the
      plot data (*.dat) into --plots and --out/results.md: the text of
      docs/results/*.md with the figures filled in.  A section without
      runs keeps the text and claims of the previous --out/results.md,
      with a line giving that page's date (docs/results/kept.md).

The words of the page are in docs/results/: page.md holds the page, one
fragment per experiment and part (savic_quadratic.md, …) its description,
claims.md each claim and how its figure reads, network.md a hand-written
section included as it is.  Here are only the numbers: rounds to a target
per seed with the best step size by their median (SAVIC), E‖x̄_T − x*‖²
over seeds and speed-up = mean error of one worker's SGD / mean error of
the N-worker run (Spiridonoff), 1 − cos(x̄, ŵ) per round (Local-GD), median
wall time per round (Overlap-Local-SGD).
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

import numpy as np

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "results")


def fragment(name, **fields):
    """docs/results/<name> with its fields filled in, its links (relative to
    docs/results/, "../savic_mnist.png") made relative to docs/."""
    with open(os.path.join(DOCS, name)) as f:
        return f.read().replace("](../", "](").format(**fields)


def verbatim(name):
    with open(os.path.join(DOCS, name)) as f:
        return f.read()


def not_run(name, experiment):
    """The heading of fragment name, and that tools/reproduce experiment
    runs it: for a part or an experiment without finished runs."""
    return fragment("not_run.md", experiment=experiment,
                    heading=verbatim(name).splitlines()[0])


def claim_texts():
    """claims.md's rows: id -> (claim, figure)."""
    texts = {}
    with open(os.path.join(DOCS, "claims.md")) as f:
        for line in f:
            cells = [c.strip() for c in line.strip()[1:-1].split("|")]
            if line.startswith("| ") and len(cells) == 3 and cells[0] not in ("id", "---"):
                texts[cells[0]] = (cells[1], cells[2])
    return texts


CLAIMS = claim_texts()


def claim(key, ok, **fields):
    text, figure = CLAIMS[key]
    return (text.format(**fields), figure.format(**fields), ok)


def figure_text(key, **fields):
    return CLAIMS[key][1].format(**fields)


# ------------------------------------------------------------ sweeps and runs

def sweep_rows(d):
    """The rows of d/sweep.jsonl, each with "path": its run directory; none
    while the sweep has not finished a run."""
    p = os.path.join(d, "sweep.jsonl")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:
        r["path"] = os.path.join(d, r["dir"])
    return rows if any(r["status"] == "done" for r in rows) else []


def diverged(row):
    """A failed run whose loss became NaN or Inf: a grid point that never
    reaches the target, not a failure of the reproduction."""
    if row["status"] != "failed":
        return False
    log = os.path.join(row["path"], "sweep.log")
    return os.path.exists(log) and re.search(r" became [-+]*(NaN|Inf) ", open(log).read())


def rows_of(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def column(rows, key):
    return np.array([np.nan if r.get(key) is None else r[key] for r in rows], dtype=float)


def model_of(run):
    return np.load(os.path.join(run, "model.npy")).astype(np.float64)


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, float) and math.isinf(v):
        return "never"
    if isinstance(v, (int, np.integer)):
        return str(v)
    return f"{v:.{digits}g}"


def write_dat(path, xs, ys):
    with open(path, "w") as f:
        for x, y in zip(xs, ys):
            if np.isfinite(y):
                f.write(f"{x:.9g} {y:.9g}\n")


def compare_table(d):
    """The tables of `lsgd compare` in d/compare/compare.md."""
    p = os.path.join(d, "compare", "compare.md")
    if not os.path.exists(p):
        return "(not compared)"
    with open(p) as f:  # its title: the page's heading says which sweep it is
        return "".join(line for line in f if not line.startswith("# ")).strip()


# ---------------------------------------------------------------- §1 SAVIC

METHODS = ["sgd", "adam", "rmsprop", "oasis"]


def savic_best(rows, method, target, final="objective"):
    """The method's best step size by median rounds to target over seeds
    (ties: lower median of the final column final, objective or
    test_loss); a step size where a seed diverged never reaches it.  None
    when nothing finished."""
    by_lr = {}
    for r in rows:
        if r["method"] == method:
            by_lr.setdefault(r["values"]["algorithm.lr"], []).append(r)
    cands = []
    for lr, runs in by_lr.items():
        n_div = sum(1 for r in runs if diverged(r))
        done = [r for r in runs if r["status"] == "done"]
        if n_div:
            cands.append(dict(lr=lr, median=math.inf, final=math.inf, diverged=n_div))
            continue
        if not done:
            continue
        hits = [r["targets"][target] for r in done]
        rounds = [h["round"] if h else math.inf for h in hits]
        rounds = [int(x) if math.isfinite(x) else x for x in rounds]
        finals = [r["final"][final] for r in done]
        finals = [math.nan if v is None else v for v in finals]
        cands.append(dict(lr=lr, rounds=rounds, median=float(np.median(rounds)),
                          final=float(np.median(finals)), acc=done[0]["final"]["test_accuracy"]))
    if not cands:
        return None
    b = min(cands, key=lambda c: (c["median"], c["final"]))
    if "rounds" not in b:  # every step size diverged
        return None
    b["tried"] = [f"{fmt(c['lr'])}{' (diverged)' if c.get('diverged') else ''}" for c in cands]
    return b


# The parts of §1: the directory of each sweep under --runs, the
# tools/reproduce experiment that runs it, the claim's name for the
# problem, and what the table shows beside rounds to target: the final
# training objective (and test accuracy) or, where the target is test
# accuracy, the final test loss.
SAVIC_PARTS = {
    "quadratic": dict(dir="savic/quadratic", experiment="savic", problem="quadratic",
                      final="objective", accuracy=False),
    "mnist": dict(dir="savic/mnist", experiment="savic", problem="mnist", final="objective",
                  accuracy=True),
    "fashion_cnn": dict(dir="savic_cnn", experiment="savic_cnn", problem="Fashion-MNIST CNN",
                        final="test_loss", accuracy=True),
}


def savic_part(runs, name):
    part = SAVIC_PARTS[name]
    d = os.path.join(runs, part["dir"])
    rows = sweep_rows(d)
    if not rows:
        return "", []
    target_text = next(iter(rows[0]["targets"]))
    best = {m: b for m in METHODS if (b := savic_best(rows, m, target_text, part["final"]))}
    final = "final loss" if part["final"] == "objective" else "final test loss"
    hdr = f"| method | step sizes tried | best lr | rounds to target (per seed) | median | {final} |"
    sep = "|---|---|---|---|---|---|"
    if part["accuracy"]:
        hdr += " test accuracy |"
        sep += "---|"
    table = [hdr, sep]
    for m, b in best.items():
        line = (f"| {m} | {', '.join(b['tried'])} | {fmt(b['lr'])} | "
                f"{', '.join(fmt(x) for x in b['rounds'])} | {fmt(b['median'])} | "
                f"{fmt(b['final'])} |")
        if part["accuracy"]:
            line += f" {fmt(100 * b['acc'], 4) if b['acc'] is not None else '—'}% (seed 1) |"
        table.append(line)
    claims = []
    rounds = "; ".join(", ".join(f"{m} {fmt(b['median'])}" for m, b in best.items() if
                                 (m == "sgd") == first) for first in (True, False))
    if "sgd" in best:
        sgd = best["sgd"]["median"]
        for m in METHODS[1:]:
            if m in best:
                v = best[m]["median"]
                tie = " " + figure_text("savic_tie") if 0.9 * sgd < v <= sgd else ""
                claims.append(claim("savic_fewer_rounds", v <= 0.9 * sgd,
                                    problem=part["problem"], method=m, rounds=fmt(v),
                                    sgd=fmt(sgd), tie=tie))
    text = fragment(f"savic_{name}.md", table="\n".join(table), rounds=rounds,
                    compare=compare_table(d))
    return text, claims


def savic(runs, plots):
    """§1: its parts, each from its own sweep; nothing when none has
    finished runs."""
    parts = {name: savic_part(runs, name) for name in SAVIC_PARTS}
    if not any(text for text, _ in parts.values()):
        return "", []
    texts = {name: text or not_run(f"savic_{name}.md", SAVIC_PARTS[name]["experiment"])
             for name, (text, _) in parts.items()}
    return fragment("savic.md", **texts), [c for _, cs in parts.values() for c in cs]


# ---------------------------------------------------------- §2 Spiridonoff

def errors(rows):
    """‖x̄_T − x*‖² (x* = 0) of every finished run of rows, in seed order."""
    errs = []
    for r in sorted(rows, key=lambda r: r["values"].get("seed", 0)):
        if r["status"] == "done" and os.path.exists(os.path.join(r["path"], "model.npy")):
            x = model_of(r["path"])
            errs.append(float(np.dot(x, x)))
    return np.array(errs)


def mean_sem(a):
    if len(a) == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan


Q3D_ROUNDS = {"every_step": 1000, "increasing": 20, "constant": 20, "one_shot": 1}


def quadratic3d(runs, plots):
    rows = sweep_rows(os.path.join(runs, "spiridonoff", "q3d"))
    if not rows:
        return "", []
    e, stats = {}, {}
    for sch in Q3D_ROUNDS:
        mine = [r for r in rows if r["method"] == sch]
        e[sch] = errors(mine)
        if len(e[sch]) == 0:
            continue
        stats[sch] = mean_sem(e[sch]) + (len(e[sch]),)
        # mean objective curve over seeds (same communication times in every seed)
        curves = [rows_of(r["path"]) for r in mine if r["status"] == "done"]
        objs = np.nanmean(np.array([column(c, "objective") for c in curves]), axis=0)
        write_dat(os.path.join(plots, f"q3d_{sch}.dat"), column(curves[0], "step"), objs)
    table = ["| schedule | rounds | seeds | E‖x̄_T − x*‖² | ± s.e. |", "|---|---|---|---|---|"]
    for sch, (m, se, n) in stats.items():
        table.append(f"| {sch} | {Q3D_ROUNDS[sch]} | {n} | {m:.3e} | {se:.1e} |")
    paired_rows = ["| increasing vs | mean of (err_inc − err_other) | ± s.e. | relative | seeds where increasing is lower |",
                   "|---|---|---|---|---|"]
    paired = {}
    for other in ["every_step", "constant", "one_shot"]:
        if "increasing" in stats and other in stats and len(e[other]) == len(e["increasing"]):
            d = e["increasing"] - e[other]
            paired[other] = (d.mean(), d.std(ddof=1) / math.sqrt(len(d)))
            paired_rows.append(f"| {other} | {d.mean():.2e} | {paired[other][1]:.1e} | "
                               f"{d.mean() / e[other].mean():+.2%} | {(d < 0).mean():.0%} |")
    claims = []
    if all(k in stats for k in Q3D_ROUNDS):
        inc, syn = stats["increasing"][0], stats["every_step"][0]
        claims.append(claim("q3d_near_synchronous", inc <= 1.5 * syn, inc=inc, syn=syn,
                            ratio=inc / syn))
        for other in ["constant", "one_shot"]:
            o = stats[other][0]
            if other in paired:
                m, se = paired[other]
                text, below = " " + figure_text("q3d_paired", mean=m, se=se), m + 2 * se < 0
            else:
                text, below = "", inc < o
            claims.append(claim(f"q3d_below_{other}", below, inc=inc, other=o, paired=text))
    text = fragment("spiridonoff_quadratic3d.md", table="\n".join(table),
                    paired="\n".join(paired_rows))
    return text, claims


S1D_SCHEDULES = ["increasing", "sqrt", "constant", "one_shot"]


def speedup1d(runs, plots):
    rows = sweep_rows(os.path.join(runs, "spiridonoff", "s1d"))
    e1 = errors(sweep_rows(os.path.join(runs, "spiridonoff", "s1d-one-worker")))
    if not rows or len(e1) == 0:
        return "", []
    ns = sorted({r["values"]["workers"] for r in rows})
    sp = {}
    table = ["| N | seeds | " + " | ".join(S1D_SCHEDULES) + " |",
             "|---" * (len(S1D_SCHEDULES) + 2) + "|"]
    for n in ns:
        cells, seeds_n = [], 0
        for sch in S1D_SCHEDULES:
            e = errors([r for r in rows if r["method"] == sch and r["values"]["workers"] == n])
            if len(e) == 0:
                cells.append("—")
                continue
            seeds_n = len(e)
            v = e1.mean() / e.mean()
            # relative s.e. of a ratio of two independent means
            rel = math.sqrt((e1.std(ddof=1) / e1.mean()) ** 2 / len(e1) +
                            (e.std(ddof=1) / e.mean()) ** 2 / len(e))
            sp.setdefault(sch, {})[n] = v
            cells.append(f"{v:.2f} ± {v * rel:.2f}")
        table.append(f"| {n} | {seeds_n} | " + " | ".join(cells) + " |")
    for sch in S1D_SCHEDULES:
        if sch in sp:
            write_dat(os.path.join(plots, f"speedup_{sch}.dat"), list(sp[sch].keys()),
                      list(sp[sch].values()))
    claims = []
    inc = sp.get("increasing", {})
    if 20 in inc:
        claims.append(claim("s1d_linear", 10 <= inc[20] <= 30, speedup=inc[20]))
    nmax = max(ns)
    if "sqrt" in sp and nmax in sp["sqrt"] and nmax in inc:
        claims.append(claim("s1d_sqrt_falls_away", sp["sqrt"][nmax] < inc[nmax], nmax=nmax,
                            sqrt=sp["sqrt"][nmax], inc=inc[nmax]))
    one = sp.get("one_shot", {})
    if 8 in one and nmax in one:
        a, b = one[8], one[nmax]
        claims.append(claim("s1d_one_shot_saturates", b <= 1.5 * a and b < inc.get(nmax, math.inf),
                            nmax=nmax, at_max=b, at_8=a, inc=inc.get(nmax, math.nan)))
    text = fragment("spiridonoff_speedup1d.md", table="\n".join(table), seeds_one=len(e1),
                    mean_one=f"{e1.mean():.4g}")
    return text, claims


def spiridonoff(runs, plots):
    q, cq = quadratic3d(runs, plots)
    s, cs = speedup1d(runs, plots)
    if not (q or s):
        return "", []
    return fragment("spiridonoff.md",
                    quadratic3d=q or not_run("spiridonoff_quadratic3d.md", "spiridonoff"),
                    speedup1d=s or not_run("spiridonoff_speedup1d.md", "spiridonoff")), cq + cs


# ------------------------------------------------------------- §3 Local-GD

def localgd_name(row):
    """L1, L10, L100 (local steps per round) or the method's name."""
    if row["method"] == "local_gd":
        return f"L{row['values']['schedule.period']}"
    return row["method"]


def localgd(runs, plots):
    rows = [r for r in sweep_rows(os.path.join(runs, "localgd")) if r["status"] == "done"]
    if not rows:
        return "", []
    claims, table = [], []
    for r in rows:
        n = localgd_name(r)
        m = rows_of(r["path"])
        c = 1 - column(m, "max_margin_cos")
        loc = 1 - column(m, "local_margin_cos")
        obj = column(m, "objective")
        total = len(m)
        write_dat(os.path.join(plots, f"localgd_{n}.dat"), column(m, "round"), c)
        picks = sorted({k for k in [1, 10, 100, 1000, total] if k <= total})
        table.append((n, picks, c, loc, obj))
        seq = [c[k - 1] for k in picks]
        ok = all(b < a for a, b in zip(seq, seq[1:])) and c[-1] < 0.2 * c[0]
        claims.append(claim("localgd_decreases", ok, run=n, picks=", ".join(map(str, picks)),
                            first=c[0], last=c[-1], total=total))
    picks = table[0][1]
    lines = ["| run | " + " | ".join(f"1−cos at k={k}" for k in picks) +
             " | workers' 1−cos(x_m, ŵ_m) at end | objective at end |",
             "|---" * (len(picks) + 3) + "|"]
    for n, p, c, loc, obj in table:
        lines.append(f"| {n} | " + " | ".join(f"{c[k - 1]:.3g}" for k in p) +
                     f" | {loc[-1]:.3g} | {obj[-1]:.3g} |")
    return fragment("localgd.md", table="\n".join(lines)), claims


# ------------------------------------------------------ §4 Overlap-Local-SGD

def round_compute_ms(run):
    c = column(rows_of(run), "compute_s")
    return max(1, int(round(1000 * float(np.median(c[np.isfinite(c)])))))


def per_round(rows):
    return float(np.median(np.diff(column(rows, "wall_s")))) * 1e3


def overlap_stats(path):
    rows = rows_of(path)
    acc = [r["test_accuracy"] for r in rows if r.get("test_accuracy") is not None]
    loss = [r["test_loss"] for r in rows if r.get("test_loss") is not None]
    return dict(wall=per_round(rows), compute=1e3 * float(np.median(column(rows, "compute_s"))),
                comm=1e3 * float(np.median(column(rows, "comm_s"))), acc=acc[-1], loss=loss[-1],
                total=rows[-1]["wall_s"])


# The parts of §4: the directory of each (its calibrate/ and delayed/
# sweeps) under --runs, the tools/reproduce experiment that runs it, and
# the claims' name for the problem.
OVERLAP_PARTS = {
    "mnist": dict(dir="overlap", problem="MNIST MLP", experiment="overlap"),
    "fashion_cnn": dict(dir="overlap_cnn", problem="Fashion-MNIST CNN",
                        experiment="overlap_cnn"),
}


def overlap_part(runs, name):
    part = OVERLAP_PARTS[name]
    base = os.path.join(runs, part["dir"])
    found = {}
    for r in sweep_rows(os.path.join(base, "calibrate")):
        found["local_sgd-no_delay"] = r
    for r in sweep_rows(os.path.join(base, "delayed")):
        found["local_sgd-blocking" if r["method"] == "local_sgd" else r["method"]] = r
    names = ["local_sgd-no_delay", "local_sgd-blocking", "overlap_local_sgd"]
    if not all(n in found and found[n]["status"] == "done" for n in names):
        return "", []
    delay = found["local_sgd-blocking"]["values"]["transport.delay.latency_ms"]
    stats = {n: overlap_stats(found[n]["path"]) for n in names}
    table = ["| run | link | wall ms / round | compute ms / round | waiting ms / round | total s | test loss | test accuracy |",
             "|---|---|---|---|---|---|---|---|"]
    for n in names:
        s = stats[n]
        link = "none" if n.endswith("no_delay") else f"{delay:g} ms"
        table.append(f"| {n} | {link} | {s['wall']:.2f} | {s['compute']:.2f} | {s['comm']:.2f} | "
                     f"{s['total']:.2f} | {s['loss']:.4f} | {100 * s['acc']:.2f}% |")
    b, bl, ov = (stats[n] for n in names)
    problem = part["problem"]
    claims = [claim("overlap_hides_delay", ov["wall"] <= 1.3 * b["wall"], problem=problem,
                    overlap=ov["wall"], plain=b["wall"], ratio=ov["wall"] / b["wall"]),
              claim("overlap_blocking_pays", bl["wall"] >= b["wall"] + 0.7 * delay,
                    problem=problem, blocking=bl["wall"], plain=b["wall"], delay=delay),
              claim("overlap_same_loss",
                    abs(ov["acc"] - bl["acc"]) <= 0.01 and ov["loss"] <= 1.3 * bl["loss"],
                    problem=problem, overlap_acc=100 * ov["acc"], blocking_acc=100 * bl["acc"],
                    overlap_loss=ov["loss"], blocking_loss=bl["loss"])]
    return fragment(f"overlap_{name}.md", delay=f"{delay:g}", table="\n".join(table)), claims


def overlap(runs, plots):
    """§4: its parts, each from its own calibration and delayed sweeps."""
    parts = {name: overlap_part(runs, name) for name in OVERLAP_PARTS}
    if not any(text for text, _ in parts.values()):
        return "", []
    texts = {name: text or not_run(f"overlap_{name}.md", OVERLAP_PARTS[name]["experiment"])
             for name, (text, _) in parts.items()}
    return fragment("overlap.md", **texts), [c for _, cs in parts.values() for c in cs]


# ---------------------------------------------------------------- the page

def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


# The page's sections, and tools/reproduce's experiments (each with its
# runs' time): savic_cnn and overlap_cnn are parts of §1 and §4.
EXPERIMENTS = [("savic", savic), ("spiridonoff", spiridonoff), ("localgd", localgd),
               ("overlap", overlap)]
RUNS = ["savic", "spiridonoff", "localgd", "overlap", "savic_cnn", "overlap_cnn"]


def previous_page(path):
    """The page tools/reproduce wrote before, if any: its date, and its
    sections ("## §…" up to the next "## ") with their rows of the summary
    table (claim, figure, met), by the section's heading."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    date = re.search(r"Written by `tools/reproduce` on ([^ ]+ [^ ]+) ", text)
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip()[1:-1].split(" | ")]
        if line.startswith("| §") and len(cells) == 3:
            rows.append((cells[0], cells[1], cells[2] == "**met**"))
    sections = {}
    for part in re.split(r"\n(?=## )", text):
        heading = part.splitlines()[0]
        if heading.startswith("## §"):
            number = heading.split()[1]  # "§2"
            sections[heading] = (part.strip() + "\n\n",
                                 [r for r in rows if r[0].startswith(number + " ")])
    return dict(date=date.group(1) if date else "?", sections=sections)


def kept(previous, name):
    """Section name as the previous page gave it, with its claims, when it
    had been run there: a run of some experiments keeps the others'
    results.  ("", []) when there is nothing to keep."""
    heading = verbatim(f"{name}.md").splitlines()[0]
    if not previous or heading not in previous["sections"]:
        return "", []
    text, claims = previous["sections"][heading]
    if "\nNot run when this page was written" in text:
        return "", []
    if KEPT_MARK not in text:
        text += fragment("kept.md", date=previous["date"], experiment=name)
    return text, claims


KEPT_MARK = "its runs were not present when this page was written"


def load_of(runs, name):
    """" (load average a → b)": the machine's 1-minute load average at the
    start and end of the experiment's runs, when tools/reproduce noted it."""
    p = os.path.join(runs, f"{name}.load")
    if not os.path.exists(p):
        return ""
    start, end = open(p).read().split()[:2]
    return f" (load average {start} → {end})"


def page(a):
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(a.plots, exist_ok=True)
    try:
        version = subprocess.run([a.lsgd, "--version"], capture_output=True,
                                 text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        version = "?"
    previous = previous_page(os.path.join(a.out, "results.md"))
    sections, claims = {}, []
    for name, fn in EXPERIMENTS:
        sections[name], c = fn(a.runs, a.plots)
        if not sections[name]:
            sections[name], c = kept(previous, name)
        claims += c
        sections[name] = sections[name] or not_run(f"{name}.md", name)
    durations = []
    for name in RUNS:
        p = os.path.join(a.runs, f"{name}.duration_s")
        if os.path.exists(p):
            durations.append(f"{name} {int(open(p).read()) / 60:.1f} min{load_of(a.runs, name)}")
    text = fragment(
        "page.md", date=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        elapsed=f"{a.elapsed // 60} min {a.elapsed % 60} s", machine=machine(), version=version,
        durations=("Time of each experiment's runs: " + ", ".join(durations) + ".")
        if durations else "",
        n_met=sum(1 for c in claims if c[2]), n_claims=len(claims),
        claims="\n".join(f"| {c} | {f} | {'**met**' if ok else '**not met**'} |"
                         for c, f, ok in claims),
        notes=fragment("notes.md"), how=fragment("how.md"), network=verbatim("network.md"),
        **sections)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n")
    for c, f_, ok in claims:
        print(f"{'met    ' if ok else 'NOT MET'}  {c}: {f_}")


def unfinished(sweep_file):
    with open(sweep_file) as f:
        out = json.load(f)["output"]
    return [r["path"] for r in sweep_rows(out) if r["status"] != "done"]


def with_latency(sweep_file, ms):
    with open(sweep_file) as f:
        doc = json.load(f)
    doc["axes"]["transport.delay.latency_ms"] = [int(ms)]
    return json.dumps(doc, indent=2, ensure_ascii=False)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "round-compute-ms":
        print(round_compute_ms(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "unfinished":
        print("\n".join(unfinished(sys.argv[2])))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "with-latency":
        print(with_latency(sys.argv[2], sys.argv[3]))
        return
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["page"])
    p.add_argument("--runs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--plots", required=True)
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--lsgd", default="lsgd")
    page(p.parse_args())


if __name__ == "__main__":
    main()
