"""``python -m bitdust.bench NAME [--json] [--quick]``; ``all`` runs every benchmark.

Figures are printed, never judged: no assertions and no exit code depends on them. With ``--json``
stdout carries exactly one JSON object (for ``all``: one object keyed by benchmark name).
"""

from __future__ import annotations

import json
import sys

import click

from bitdust.bench.registry import benchmarks


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object of the figures")
@click.option("--quick", is_flag=True, help="fewer and shorter runs (a smoke test, not a measurement)")
def main(name: str, as_json: bool, quick: bool) -> None:
    """Run the benchmark NAME, or `all`."""
    from bitdust.main.process.malloc_tuning import tune_malloc

    tune_malloc()  # as the engine does, so in-process figures are the engine's
    known = benchmarks()
    if name == "all":
        chosen = list(known.values())
    elif name in known:
        chosen = [known[name]]
    else:
        click.echo(f"unknown benchmark {name!r}; known: all, {', '.join(sorted(known))}", err=True)
        sys.exit(2)
    results = {}
    for bench in chosen:
        results[bench.name] = bench.run(quick)
        if not as_json:
            bench.render(results[bench.name])
    if as_json:
        click.echo(json.dumps(results if name == "all" else results[name], indent=2))


if __name__ == "__main__":
    main(prog_name="python -m bitdust.bench")
