"""Translator latency per message: p50/p95 for short and long messages, direct and pivot pairs.

    python bench/translate.py [--runs 30] [--packages-dir DIR] [--test-packages tiny|base]

Starts `python -m translator` from .venv-translate on a free loopback port. It uses the packages
installed in --packages-dir (default: $ARGOS_PACKAGES_DIR) when there are any, otherwise (or with
--test-packages) it builds random-weight test packages es→en and en→fr (translator/devpackage.py):
`tiny` (the tests' 1-layer model) measures the service's own overhead; `base` has a real Argos
model's shape (6+6 layers, d_model 512, 32k vocabulary, int8) and so roughly its CPU cost. Random
weights never choose to stop, so with test packages the service runs with
TRANSLATOR_MAX_OUTPUT_RATIO=1 (output as many tokens as the input, about what a real model does)
and their SentencePiece model is trained on the sample texts too (real subword counts). Install
real packages for real numbers.
Standard library only; runs under any Python 3.11.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-translate" / "bin" / "python"

SHORT = {
    "es": "Necesito ayuda, me quitaron el pasaporte.",
    "en": "I need help, they took my passport.",
    "fr": "J'ai besoin d'aide, ils ont pris mon passeport.",
}
LONG = {
    "es": ("Llegué hace seis meses para trabajar en un restaurante. El hombre que me trajo se quedó con mi "
           "pasaporte y dice que le debo cuatro mil euros por el viaje. Trabajo catorce horas cada día y no me "
           "pagan. Dormimos seis personas en una habitación encima de la cocina y no podemos salir solos. "
           "Mi familia no sabe dónde estoy y tengo miedo de llamar a la policía porque no tengo papeles. "
           "Quiero saber si alguien me puede ayudar sin que me deporten."),
    "en": ("I arrived six months ago to work in a restaurant. The man who brought me kept my passport and says "
           "I owe him four thousand euros for the journey. I work fourteen hours every day and I am not paid. "
           "Six of us sleep in one room above the kitchen and we cannot go out alone. My family does not know "
           "where I am and I am afraid to call the police because I have no papers. I want to know if someone "
           "can help me without being deported."),
    "fr": ("Je suis arrivée il y a six mois pour travailler dans un restaurant. L'homme qui m'a amenée a gardé "
           "mon passeport et dit que je lui dois quatre mille euros pour le voyage. Je travaille quatorze heures "
           "par jour et je ne suis pas payée. Nous dormons à six dans une chambre au-dessus de la cuisine et nous "
           "ne pouvons pas sortir seules. Ma famille ne sait pas où je suis et j'ai peur d'appeler la police."),
}


def free_port() -> int:
    """A currently free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: Optional[dict] = None) -> tuple[int, dict]:
    """GET or POST JSON; returns status and answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def has_packages(path: Path) -> bool:
    """True when `path` holds at least one installed Argos package."""
    return path.is_dir() and any((child / "metadata.json").exists() for child in path.iterdir())


def build_test_packages(workdir: Path, env: dict[str, str], size: str) -> Path:
    """Build es→en and en→fr test packages and install them with the install CLI."""
    files = workdir / "files"
    corpus = workdir / "corpus.txt"
    corpus.write_text("\n".join([*SHORT.values(), *LONG.values()]), encoding="utf-8")
    subprocess.run([str(PYTHON), "-m", "translator.devpackage", "--size", size, "--corpus", str(corpus), str(files),
                    "es", "en", "en", "fr"],
                   cwd=ROOT, check=True, capture_output=True)
    packages = workdir / "packages"
    subprocess.run([str(PYTHON), "-m", "translator.install", *map(str, sorted(files.glob("*.argosmodel")))],
                   cwd=ROOT, check=True, capture_output=True, env={**env, "ARGOS_PACKAGES_DIR": str(packages)})
    return packages


def start(packages: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str, float]:
    """Start the service; returns the process, its URL and seconds until /health answered."""
    port = free_port()
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen([str(PYTHON), "-m", "translator"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env={**env, "ARGOS_PACKAGES_DIR": str(packages), "TRANSLATOR_PORT": str(port)})
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < 600:
        if process.poll() is not None:
            sys.exit(f"translator exited:\n{log.read_text()}")
        try:
            if call(url + "/health")[0] == 200:
                return process, url, time.monotonic() - started
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    process.kill()
    sys.exit("translator did not start within 600 s")


def pick_pairs(pairs: list[dict]) -> list[tuple[str, dict]]:
    """One direct and one pivot pair, preferring languages we have sample texts for."""
    chosen = []
    for kind, hops in (("direct", 2), ("pivot", 3)):
        candidates = [p for p in pairs if len(p["via"]) == hops]
        candidates.sort(key=lambda p: (p["source"] not in SHORT, p["source"] == "en", p["source"], p["target"]))
        if candidates:
            chosen.append((kind, candidates[0]))
    return chosen


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    """Run the benchmark and print one line per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="messages per case (default 30)")
    parser.add_argument("--packages-dir", type=Path, default=Path(os.environ.get("ARGOS_PACKAGES_DIR", ROOT / "var" / "argos-packages")))
    parser.add_argument("--test-packages", choices=("tiny", "base"), help="use freshly built test packages")
    args = parser.parse_args()
    if not PYTHON.exists():
        sys.exit(f"{PYTHON} missing: run `make .venv-translate`")
    with tempfile.TemporaryDirectory(prefix="safeline-bench-translate-") as tmp:
        workdir = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(workdir / "cache")}
        if args.test_packages or not has_packages(args.packages_dir):
            size = args.test_packages or "tiny"
            packages, source = build_test_packages(workdir, env, size), f"{size} test packages (random weights)"
            env["TRANSLATOR_MAX_OUTPUT_RATIO"] = "1"
        else:
            packages, source = args.packages_dir, f"installed packages in {args.packages_dir}"
        process, url, startup = start(packages, env, workdir / "translator.log")
        try:
            health = call(url + "/health")[1]
            print(f"translator: {source}; {health['packages']} packages loaded in {health['load_seconds']:.2f} s, "
                  f"ready after {startup:.1f} s")
            pairs = pick_pairs(call(url + "/languages")[1]["pairs"])
            if not pairs:
                print("no translatable pair installed")
                return 1
            print(f"{'case':<28} {'n':>4} {'chars':>6} {'p50 ms':>9} {'p95 ms':>9} {'service p50':>12}")
            for kind, pair in pairs:
                for size, samples in (("short", SHORT), ("long", LONG)):
                    text = samples.get(pair["source"], samples["en"])
                    body = {"text": text, "source": pair["source"], "target": pair["target"]}
                    call(url + "/translate", body)  # first call outside the numbers (connection, caches)
                    wall, served = [], []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        status, answer = call(url + "/translate", body)
                        wall.append((time.perf_counter() - started) * 1000)
                        if status != 200:
                            sys.exit(f"{kind} {pair}: {status} {answer}")
                        served.append(answer["elapsed_ms"])
                    name = f"{size} {kind} {'→'.join(pair['via'])}"
                    print(f"{name:<28} {args.runs:>4} {len(text):>6} {percentile(wall, 50):>9.1f} "
                          f"{percentile(wall, 95):>9.1f} {statistics.median(served):>12.1f}")
            after = call(url + "/health")[1]
            print(f"model loads: {after['model_loads']} for {after['packages']} packages after {after['requests']} requests")
        finally:
            process.terminate()
            process.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
