"""Build a small but real Argos package offline, for tests and the benchmark.

`python -m translator.devpackage [--size tiny|base] OUT_DIR FROM TO [FROM TO ...]` writes
`OUT_DIR/FROM_TO.argosmodel`: a SentencePiece model trained on synthetic lines and a CTranslate2
Transformer with random weights, in Argos's package layout. Its translations are nonsense; its
loading and decoding path is the real one. `tiny` (1 layer, d_model 16) is for tests; `base` has the
shape of a real Argos model (6+6 layers, d_model 512, 32k vocabulary, int8) to estimate CPU cost.
"""
from __future__ import annotations

import io
import json
import random
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

@dataclass(frozen=True)
class Size:
    """Model dimensions; the vocabulary is padded with unused tokens up to `vocab`."""

    layers: int
    heads: int
    d_model: int
    ffn: int
    vocab: int
    quantization: str | None
    sp_vocab: int = 120


SIZES = {
    "tiny": Size(layers=1, heads=2, d_model=16, ffn=32, vocab=0, quantization=None),
    "base": Size(layers=6, heads=8, d_model=512, ffn=2048, vocab=32000, quantization="int8", sp_vocab=600),
}

_WORDS = {
    "en": "help please work passport money home family phone police safe night boss house paid".split(),
    "es": "ayuda por favor trabajo pasaporte dinero casa familia telefono policia seguro noche jefe".split(),
    "fr": "aide merci travail passeport argent maison famille telephone police sur nuit patron".split(),
}


def _corpus(codes: tuple[str, ...], lines: int = 400, seed: int = 7) -> list[str]:
    """Synthetic sentences in the given languages (words from a small list, any other code gets letters)."""
    rng = random.Random(seed)
    words: list[str] = []
    for code in codes:
        words += _WORDS.get(code, ["".join(rng.choice("abcdefghij") for _ in range(5)) for _ in range(12)])
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))) + "." for _ in range(lines)]


def _sentencepiece(codes: tuple[str, ...], vocab: int = 120, extra: tuple[str, ...] = ()) -> tuple[bytes, list[str]]:
    """Train a small SentencePiece model in memory (on synthetic lines plus `extra`); returns its bytes
    and its pieces in id order."""
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_corpus(codes) + list(extra) * 3), model_writer=model, vocab_size=vocab,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, minloglevel=2,
        normalization_rule_name="identity",
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return model.getvalue(), pieces


def _fill_random(spec, rng: np.random.Generator, vocab: int, size: Size) -> None:
    """Give every required weight of a Transformer spec a small random value of the right shape."""
    from ctranslate2.specs import common_spec, model_spec

    def shape_of(scope: str, name: str) -> tuple[int, ...]:
        """Shapes follow CTranslate2's Transformer layout: linear weights are (out, in)."""
        d_model = size.d_model
        if name in ("gamma", "beta"):
            return (d_model,)
        if "embeddings" in scope:
            return (vocab, d_model)
        if scope.endswith("projection"):
            return (vocab,) if name == "bias" else (vocab, d_model)
        out_dim = d_model
        if scope.endswith("self_attention/linear_0"):
            out_dim = 3 * d_model  # fused query, key, value
        elif scope.endswith("/attention/linear_1"):
            out_dim = 2 * d_model  # fused key, value of the encoder attention
        elif scope.endswith("ffn/linear_0"):
            out_dim = size.ffn
        in_dim = size.ffn if scope.endswith("ffn/linear_1") else d_model
        return (out_dim,) if name == "bias" else (out_dim, in_dim)

    def fill(layer, path: str, value) -> None:
        scope, _, name = path.rpartition("/")
        linear_bias = name == "bias" and isinstance(layer, common_spec.LinearSpec)
        if value is None or (linear_bias and isinstance(value, str) and value == model_spec.OPTIONAL):
            shape = shape_of(scope, name)
            array = rng.normal(0.0, 0.5 / np.sqrt(size.d_model / 16), shape).astype(np.float32)
            if name == "gamma":
                array = np.ones(shape, np.float32)
            setattr(layer, name, array)

    model_spec.visit_spec(spec, fill)


def build_model(out_dir: Path, pieces: list[str], seed: int, size: Size = SIZES["tiny"]) -> None:
    """Save a CTranslate2 Transformer over `pieces` (shared vocabulary) into `out_dir`."""
    from ctranslate2.specs import transformer_spec

    real_pieces = len(pieces)
    pieces = pieces + [f"<unused{i}>" for i in range(max(0, size.vocab - len(pieces)))]
    spec = transformer_spec.TransformerSpec.from_config(size.layers, size.heads)
    _fill_random(spec, np.random.default_rng(seed), len(pieces), size)
    # Favour end-of-sentence a little so random outputs tend to stay short; never emit the padding
    # tokens (they only make the output layer as wide as a real model's).
    spec.decoder.projection.bias[pieces.index("</s>")] += 2.0
    spec.decoder.projection.bias[real_pieces:] = -1e4
    spec.register_source_vocabulary(pieces)
    spec.register_target_vocabulary(pieces)
    spec.validate()
    spec.optimize(quantization=size.quantization)
    spec.save(str(out_dir))


def build_package(out_dir: Path, from_code: str, to_code: str, seed: int = 1, size: str = "tiny",
                  corpus: tuple[str, ...] = ()) -> Path:
    """Write `out_dir/<from>_<to>.argosmodel` and return its path; `corpus` adds SentencePiece training lines."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"translate-{from_code}_{to_code}-0_0_1"
    sp_model, pieces = _sentencepiece((from_code, to_code), SIZES[size].sp_vocab, corpus)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        model_dir.mkdir()
        build_model(model_dir, pieces, seed, SIZES[size])
        target = out_dir / f"{from_code}_{to_code}.argosmodel"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            metadata = {
                "package_version": "0.0.1", "argos_version": "1.0", "type": "translate",
                "from_code": from_code, "from_name": from_code.upper(),
                "to_code": to_code, "to_name": to_code.upper(),
                "links": [], "description": "Safeline test package (random weights)",
            }
            archive.writestr(f"{name}/metadata.json", json.dumps(metadata, indent=2))
            archive.writestr(f"{name}/sentencepiece.model", sp_model)
            archive.writestr(f"{name}/README.md", "Test package built by translator.devpackage.\n")
            for file in sorted(model_dir.iterdir()):
                archive.write(file, f"{name}/model/{file.name}")
    return target


def main(argv: list[str]) -> int:
    """CLI: [--size tiny|base] OUT_DIR FROM TO [FROM TO ...]; prints the written paths."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m translator.devpackage", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="tiny")
    parser.add_argument("--corpus", type=Path, help="extra SentencePiece training lines (one per line)")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("codes", nargs="+", metavar="FROM TO")
    args = parser.parse_args(argv)
    if len(args.codes) % 2:
        parser.error("language codes come in FROM TO pairs")
    pairs = list(zip(args.codes[::2], args.codes[1::2]))
    corpus = tuple(args.corpus.read_text(encoding="utf-8").splitlines()) if args.corpus else ()
    for seed, (from_code, to_code) in enumerate(pairs, start=1):
        print(build_package(args.out_dir, from_code, to_code, seed, args.size, corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
