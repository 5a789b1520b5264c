"""How much a re-run of `wimpy build` costs next to a first run, measured in one run.

A first run of a fresh tag looks the tag up, builds the test image and pushes it; a re-run
of the same tag only looks it up and skips. The script starts its own registry
(docker-registry on a free port of 127.0.0.1), runs both several times with fresh content
each repetition (so each first run really builds a layer and uploads it), prints a table
and appends the results as one JSON line to bench/results/build_push.jsonl.

    .venv/bin/python bench/build_push.py [--repetitions 5]

Needs what tests/test_build.py needs: a running Docker engine, and the Debian packages
docker-registry, busybox-static and apache2-utils.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "build_push.jsonl"


def command_runner():
    """`wimpy build` in-process, as wimpy_cli/main.py registers commands (exit codes included)."""
    import typer
    from typer.testing import CliRunner

    from wimpy_cli import reporting
    from wimpy_cli.commands.build import build

    app = typer.Typer(pretty_exceptions_enable=False)
    app.command(name="build")(reporting.reports_errors(build))

    @app.callback()
    def _root() -> None:
        pass

    runner = CliRunner()

    def run(*args: str) -> dict:
        result = runner.invoke(app, ["build", *args, "--json"])
        if result.exit_code != 0:
            raise SystemExit(f"wimpy build {' '.join(args)} failed ({result.exit_code}):\n"
                             f"{result.stderr[-3000:]}")
        return json.loads(result.stdout)

    return run


def timed(run, *args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    document = run(*args)
    return time.perf_counter() - started, document


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repetitions", type=int, default=5, help="first run + re-run pairs")
    options = parser.parse_args()
    if options.repetitions < 1:
        parser.error(f"--repetitions must be at least 1, got {options.repetitions}")

    from tests.docker_fixtures import LocalRegistry, missing_requirements, remove_images_of, write_project

    problems = missing_requirements()
    if problems:
        print("Cannot run the benchmark:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1

    import docker

    client = docker.from_env()
    run = command_runner()
    firsts: list[float] = []
    reruns: list[float] = []
    with tempfile.TemporaryDirectory(prefix="wimpy-bench-") as folder:
        registry = LocalRegistry(Path(folder) / "registry").start()
        try:
            app = f"bench{uuid.uuid4().hex[:8]}"
            for repetition in range(options.repetitions):
                # Fresh content each time: the first run builds and uploads a new layer.
                config = write_project(Path(folder) / f"app{repetition}", app=app,
                                       registry_url=f"{registry.host}/{app}",
                                       health=f"bench {repetition} {uuid.uuid4()}\n")
                version = f"bench-{repetition}"
                first, pushed = timed(run, "-c", str(config), "-e", "staging", "--version", version)
                again, skipped = timed(run, "-c", str(config), "-e", "staging", "--version", version)
                if not pushed["pushed"] or skipped["pushed"]:
                    raise SystemExit(f"unexpected outcomes: first {pushed}, re-run {skipped}")
                firsts.append(first)
                reruns.append(again)
        finally:
            registry.stop()
            remove_images_of(client, registry.host)

    print(f"{'run':>4}  {'first run (s)':>13}  {'re-run (s)':>10}  {'re-run/first':>12}")
    for index, (first, again) in enumerate(zip(firsts, reruns), start=1):
        print(f"{index:>4}  {first:>13.3f}  {again:>10.3f}  {again / first:>12.3f}")
    median_first, median_rerun = statistics.median(firsts), statistics.median(reruns)
    ratio = median_rerun / median_first
    print(f"{'median':>6}{median_first:>13.3f}  {median_rerun:>10.3f}  {ratio:>12.3f}")
    print("(run 1 also uploads the busybox layer; later first runs upload only their new layer)")

    record = {
        "benchmark": "build_push",
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "repetitions": options.repetitions,
        "first_run_seconds": [round(value, 4) for value in firsts],
        "rerun_seconds": [round(value, 4) for value in reruns],
        "median_first_run_seconds": round(median_first, 4),
        "median_rerun_seconds": round(median_rerun, 4),
        "ratio_rerun_to_first": round(ratio, 4),
        "docker_server": client.version().get("Version"),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(json.dumps(record, sort_keys=True) + "\n")
    print(f"Appended to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
