"""Turn the raw measurements of `make bench` into figures, ratios, tables and a plot."""

from __future__ import annotations

import io
import json
import statistics
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROUTE_NAMES = {"get": "GET /products/{id}", "list": "GET /products (20)", "post": "POST /products"}
# Targets: ratios to the floor, Storefront with logs only (and production vs logs only);
# below Powertools (a ratio under 1) on every route.
COLD_TARGET = 1.25
OVERHEAD_TARGETS = {"get": 3.5, "list": 3.0, "post": 3.0}
PRODUCTION_TARGET = 1.25


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))])


def _cold(runs: list[dict[str, Any]]) -> dict[str, float]:
    def med(f: Callable[[dict[str, Any]], float]) -> float:
        return round(float(statistics.median(f(r) for r in runs)), 1)

    return {
        "total_ms": med(lambda r: r["total_s"] * 1000),
        "interpreter_ms": med(lambda r: r["interpreter_s"] * 1000),
        "import_ms": med(lambda r: r["import_s"] * 1000),
        "first_invoke_ms": med(lambda r: r["first_s"] * 1000),
        "first_use_init_ms": med(lambda r: (r["first_s"] - r["second_s"]) * 1000),
        "second_invoke_ms": med(lambda r: r["second_s"] * 1000),
        "min_ms": round(min(r["total_s"] for r in runs) * 1000, 1),
        "max_ms": round(max(r["total_s"] for r in runs) * 1000, 1),
        "rss_mib": med(lambda r: r["rss_kib"] / 1024),
    }


def _warm(samples: list[list[int]]) -> dict[str, float]:
    expected = {200, 201}
    bad = [s[3] for s in samples if s[3] not in expected]
    if bad:
        raise RuntimeError(f"unexpected statuses in the warm run: {sorted(set(bad))}")
    total = [s[0] / 1000 for s in samples]
    overhead = [(s[0] - s[1]) / 1000 for s in samples]
    inside = [s[1] / 1000 for s in samples]
    return {
        "n": len(samples),
        "p50_us": round(percentile(total, 0.5)),
        "p99_us": round(percentile(total, 0.99)),
        "overhead_p50_us": round(percentile(overhead, 0.5)),
        "overhead_p99_us": round(percentile(overhead, 0.99)),
        "dynamodb_p50_us": round(percentile(inside, 0.5)),
        "dynamodb_calls": round(statistics.mean(s[2] for s in samples), 2),
    }


def zip_bytes(key: str, root: Path) -> int | None:
    """The deployment zip (`make package`), or the floor's one file deflated; None if absent
    (and for the peers, whose package is not built)."""
    if key in ("powertools", "chalice"):
        return None
    if key == "floor":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(root / "bench" / "floor.py", "floor.py")
        return len(buffer.getvalue())
    for stage in ("prod", "dev"):
        path = root / "out" / stage / "deployment.zip"
        if path.exists():
            return path.stat().st_size
    return None


def summarise(
    configs: list[Any], meta: dict[str, Any], root: Path, experiments: list[Any] | None = None
) -> dict[str, Any]:
    """The figures of every configuration, the targets and the what-if experiments."""
    results: dict[str, Any] = {}
    for config in configs:
        results[config.key] = {
            "label": config.label,
            "cold": _cold(config.cold),
            "warm": {route: _warm(samples) for route, samples in config.warm.items()},
            "peak_rss_mib": round(config.rss_kib / 1024, 1),
            "zip_bytes": zip_bytes(config.key, root),
        }
    what_if = {c.key: {"label": c.label, "cold": _cold(c.cold)} for c in experiments or []}
    return {"meta": meta, "results": results, "targets": targets(results), "what_if": what_if}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue-23 target: base, value, ratio, limit, met."""
    floor, logs, peer = results["floor"], results["logs"], results["powertools"]
    rows = [
        _target(
            "cold start to the first GET /products/{id}, logs only", "ms",
            floor["cold"]["total_ms"], logs["cold"]["total_ms"], COLD_TARGET, "floor",
        )
    ]  # fmt: skip
    for route, limit in OVERHEAD_TARGETS.items():
        name = f"warm overhead p50, {ROUTE_NAMES[route]}, logs only"
        base, value = floor["warm"][route]["overhead_p50_us"], logs["warm"][route]["overhead_p50_us"]
        rows.append(_target(name, "µs", base, value, limit, "floor"))
    for route in OVERHEAD_TARGETS:
        name = f"warm overhead p50, {ROUTE_NAMES[route]}, below Powertools"
        base, value = peer["warm"][route]["overhead_p50_us"], logs["warm"][route]["overhead_p50_us"]
        rows.append(_target(name, "µs", base, value, 1.0, "Powertools"))
    for key, sampling in (("production", "100 % sampled"), ("production-default", "default sampling")):
        for route in OVERHEAD_TARGETS:
            name = f"warm overhead p50, {ROUTE_NAMES[route]}, production, {sampling}"
            base = logs["warm"][route]["overhead_p50_us"]
            value = results[key]["warm"][route]["overhead_p50_us"]
            rows.append(_target(name, "µs", base, value, PRODUCTION_TARGET, "logs only"))
    return rows


def _target(name: str, unit: str, base: float, value: float, limit: float, against: str) -> dict[str, Any]:
    ratio = value / base if base else float("inf")
    return {
        "target": name,
        "unit": unit,
        "against": against,
        "base": base,
        "value": value,
        "ratio": round(ratio, 2),
        "limit": limit,
        "met": ratio <= limit if limit != 1.0 else ratio < limit,
        "missed_by": None if ratio <= limit else round(value - base * limit, 1),
    }


def _x(value: float, base: float) -> str:
    return f"{value / base:.2f}×" if base else "n/a"


def _size(value: int | None) -> str:
    if value is None:
        return "n/a (no out/<stage>/deployment.zip: run `make package STAGE=prod`)"
    return f"{value / 1024 / 1024:.2f} MiB" if value > 1024 * 1024 else f"{value / 1024:.1f} KiB"


HEADLINE = ("floor", "powertools", "chalice", "logs", "production", "production-default")


def headline(summary: dict[str, Any]) -> list[str]:
    """Warm overhead p50 (µs) per route: each configuration, its ratio to the floor."""
    results = summary["results"]
    keys = [k for k in HEADLINE if k in results]
    names = {"floor": "plain boto3", "powertools": "Powertools", "chalice": "Chalice",
             "logs": "Storefront", "production": "+ X-Ray 100 %, EMF",
             "production-default": "+ X-Ray default, EMF"}  # fmt: skip
    lines = [
        "| overhead p50, µs (× plain) | " + " | ".join(names[k] for k in keys) + " | botocore p50 |",
        "|---|" + "---:|" * (len(keys) + 1),
    ]
    for route, label in ROUTE_NAMES.items():
        base = results["floor"]["warm"][route]["overhead_p50_us"]
        values = [results[k]["warm"][route]["overhead_p50_us"] for k in keys]
        cells = [f"{value:,} ({_x(value, base)})" for value in values]
        botocore = results["floor"]["warm"][route]["dynamodb_p50_us"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {botocore:,} |")
    cold_base = results["floor"]["cold"]["total_ms"]
    colds = [results[k]["cold"]["total_ms"] for k in keys]
    cold = [f"{value:.0f} ({_x(value, cold_base)})" for value in colds]
    lines.append("| cold start to the first GET by id, ms | " + " | ".join(cold) + " | |")
    return lines


def _experiment_note(meta: dict[str, Any]) -> list[str]:
    if meta.get("experiment") != "same-write":
        return []
    return [
        "**Experiment `BENCH_SAME_WRITE=1`:** the floor and the peers create a product with the "
        "transaction Storefront's POST writes (the product, its owner's check, the outbox event) "
        "instead of their own `PutItem`; the ratios below compare like with like. The targets are "
        'judged on a run without it (bench/results.md); docs/performance.md, "The same write".',
        "",
    ]


def render(summary: dict[str, Any]) -> str:
    """The markdown tables of a summary."""
    meta, results = summary["meta"], summary["results"]
    floor = results["floor"]
    lines = [
        f"`make bench`, {meta['when']}, {meta['machine']}, load after the run {meta['load_after']}; "
        f"{meta['cold_runs']} cold starts and {meta['warm_n']} warm invocations per route and "
        f"configuration (of {meta['warm_n_asked']} asked, {meta['warm_budget_s']:g} s budget), "
        f"interleaved; {meta['seconds']} s in all.",
        "",
        *_experiment_note(meta),
        "| target | base | value | ratio | limit | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for t in summary["targets"]:
        missed = "yes" if t["met"] else f"**no** (by {t['missed_by']:g} {t['unit']})"
        lines.append(
            f"| {t['target']} | {t['base']:g} {t['unit']} ({t['against']}) | {t['value']:g} {t['unit']} "
            f"| {t['ratio']:.2f}× | ≤ {t['limit']}× | {missed} |"
        )
    lines += ["", *headline(summary), ""]
    lines += [
        "Cold start: a fresh process → the response to its first `GET /products/{id}` (Lambda handler, "
        "API Gateway proxy event), median; interpreter = spawn → first line; import = the handler "
        "module (Lambda's init phase); first-use init = first invoke − a second identical invoke.",
        "",
        "| configuration | cold start, ms | × floor | range | interpreter | import | first invoke "
        "| of which first-use init | peak RSS, MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in [*results.values(), *summary.get("what_if", {}).values()]:
        c = r["cold"]
        lines.append(
            f"| {r['label']} | {c['total_ms']:.0f} | {_x(c['total_ms'], floor['cold']['total_ms'])} "
            f"| {c['min_ms']:.0f}–{c['max_ms']:.0f} | {c['interpreter_ms']:.0f} | {c['import_ms']:.0f} "
            f"| {c['first_invoke_ms']:.1f} | {c['first_use_init_ms']:.1f} | {c['rss_mib']:.0f} |"
        )
    lines += [
        "",
        "Warm: overhead = handler time minus the whole of botocore's `_make_api_call` for "
        "DynamoDB (its own column: the same work whatever the handler), per request, in µs.",
        "",
        "| configuration | route | p50 | p99 | overhead p50 | × floor | overhead p99 | botocore p50 "
        "| DynamoDB calls/request |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for route, name in ROUTE_NAMES.items():
        for r in results.values():
            w, base = r["warm"][route], floor["warm"][route]
            lines.append(
                f"| {r['label']} | {name} | {w['p50_us']:,} | {w['p99_us']:,} | {w['overhead_p50_us']:,} "
                f"| {_x(w['overhead_p50_us'], base['overhead_p50_us'])} | {w['overhead_p99_us']:,} "
                f"| {w['dynamodb_p50_us']:,} | {w['dynamodb_calls']:g} |"
            )
    lines += ["", "| configuration | peak RSS after the warm run, MiB | × floor | zip | × floor |"]
    lines.append("|---|---:|---:|---:|---:|")
    for r in results.values():
        size, base = r["zip_bytes"], floor["zip_bytes"]
        ratio = _x(size, base) if size else "n/a"
        lines.append(
            f"| {r['label']} | {r['peak_rss_mib']:.0f} | {_x(r['peak_rss_mib'], floor['peak_rss_mib'])} "
            f"| {_size(size)} | {ratio} |"
        )
    return "\n".join(lines)


SHORT = {
    "floor": "plain boto3",
    "powertools": "Powertools",
    "chalice": "Chalice",
    "logs": "Storefront\nlogs only",
    "production": "Storefront\nX-Ray 100 %",
    "production-default": "Storefront\nX-Ray default",
}


def plot(summary: dict[str, Any], path: Path) -> None:
    """bench/results.png: cold start split and warm overhead per route."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = summary["results"]
    labels = [SHORT.get(key, r["label"]) for key, r in results.items()]
    fig, (cold_ax, warm_ax) = plt.subplots(1, 2, figsize=(16, 6))
    bottom = [0.0] * len(results)
    for part, name in (
        ("interpreter_ms", "interpreter"),
        ("import_ms", "import"),
        ("first_invoke_ms", "first invoke"),
    ):
        values = [r["cold"][part] for r in results.values()]
        cold_ax.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    rest = [r["cold"]["total_ms"] - b for r, b in zip(results.values(), bottom, strict=True)]
    cold_ax.bar(labels, rest, bottom=bottom, label="rest (process, worker)", color="lightgray")
    cold_ax.axhline(
        results["floor"]["cold"]["total_ms"] * COLD_TARGET, color="k", ls="--", lw=1, label="target"
    )
    cold_ax.set(title="Cold start to the first GET /products/{id} (median, ms)", ylabel="ms")
    cold_ax.tick_params(axis="x", labelsize=8)
    cold_ax.legend(fontsize=8)
    width = 0.8 / len(results)
    for i, r in enumerate(results.values()):
        xs = [j + i * width for j in range(len(ROUTE_NAMES))]
        warm_ax.bar(
            xs, [r["warm"][route]["overhead_p50_us"] for route in ROUTE_NAMES], width, label=r["label"]
        )
    for j, (route, limit) in enumerate(OVERHEAD_TARGETS.items()):
        level = results["floor"]["warm"][route]["overhead_p50_us"] * limit
        right = j + width * (len(results) - 0.5)
        warm_ax.hlines(level, j - width / 2, right, colors="k", linestyles="--", lw=1)
    middle = width * (len(results) - 1) / 2
    warm_ax.set_xticks([j + middle for j in range(len(ROUTE_NAMES))], list(ROUTE_NAMES.values()))
    warm_ax.set(title="Warm overhead p50 (µs, outside botocore's DynamoDB calls; dashes: target)")
    warm_ax.legend(fontsize=8)
    fig.suptitle(f"make bench, {summary['meta']['when']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_all(summary: dict[str, Any], folder: Path) -> str:
    """results.json, results.md, results.png; the markdown, for the terminal."""
    folder.mkdir(parents=True, exist_ok=True)
    table = render(summary)
    (folder / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (folder / "results.md").write_text(
        "# Benchmark: Storefront against a plain boto3 handler and its peers\n\n"
        + table
        + "\n\n![plot](results.png)\n",
        encoding="utf-8",
    )
    plot(summary, folder / "results.png")
    return table + f"\n\nwritten: {folder}/results.json, results.md, results.png"
