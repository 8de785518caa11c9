"""Batched decoding: several requests decoded together in one llama.cpp context.

Why: on a CPU one sequence leaves most of each forward pass idle (the weights are read
once per ``llama_decode`` whatever the number of tokens in it), so the concurrent slots of
a job should advance together. One worker thread owns a llama.cpp context with
``batch_size`` sequences (a unified KV cache); each admitted request gets a free sequence,
its own sampler chain (grammar first when the request asks for JSON or a label, then the
same top-k / top-p / min-p / temperature chain as ``Llama.create_chat_completion``) and
its own stop condition, and every step puts one token per generating sequence, plus the
pending prompt tokens of newcomers, into a single ``llama_decode``.

Prompt prefixes: a sequence keeps its KV cells after it finishes; a new prompt starts
from the longest prefix any sequence holds (``llama_memory_seq_cp`` shares the cells, no
copy) and evaluates only the rest. A job's prompts share their system prompt and
instructions, so most of a prompt is read once per batch instead of once per request.

Caveat (as for the prefix cache): llama.cpp's arithmetic differs in the last bits with
the batch's composition, so at temperature > 0 a text may differ from the one the same
request would get alone; formats, grammars and labels do not change.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sentiforge.backends.base import ChatRequest, Completion, Usage
from sentiforge.errors import PermanentBackendError, TransientBackendError

_RANDOM_SEED = 0xFFFFFFFF  # LLAMA_DEFAULT_SEED: a random seed per sampler


def default_batch_size(threads: int, gpu: bool) -> int:
    """Sequences decoded together. On a CPU the gain peaks around two per core (llama.cpp's
    batched bench on 2 cores: 1.6x generation at 4 sequences, less at 8); a GPU wants many."""
    if gpu:
        return 32
    return max(2, min(16, 2 * threads))


@dataclass
class _Seq:
    """One request being decoded."""

    prompt: list[int]
    max_tokens: int
    stops: tuple[str, ...]
    sampler: Any
    future: concurrent.futures.Future[Completion]
    slot: int = -1
    fed: int = 0  # prompt tokens already in the KV cache
    out: list[int] = field(default_factory=list)
    text: bytes = b""
    next_token: int | None = None  # sampled, not yet decoded


@dataclass
class _Slot:
    tokens: list[int] = field(default_factory=list)  # what this sequence's KV cells hold
    seq: _Seq | None = None


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class BatchedDecoder:
    """A context of ``batch_size`` sequences over a loaded model, driven by one thread.

    ``submit`` is thread-safe and returns a future; the worker admits requests as sequences
    free up (continuous batching) and resolves each future when its sequence stops.
    """

    def __init__(self, llama: Any, *, batch_size: int, n_ctx: int, n_threads: int, model: str) -> None:
        from sentiforge.backends.embedded import llama_cpp_module

        self.lib = llama_cpp_module()
        self.llama = llama
        self.model = model
        self.batch_size = batch_size
        # one KV cache shared by the sequences: attention spans the used cells, so a larger
        # cache than the requests need costs every step (and ~28 KB a cell for the 1.5B model)
        self.n_ctx = n_ctx
        self.n_batch = 512
        params = self.lib.llama_context_default_params()
        params.n_ctx = self.n_ctx
        params.n_batch = self.n_batch
        params.n_ubatch = self.n_batch
        params.n_seq_max = batch_size
        params.n_threads = params.n_threads_batch = n_threads
        params.kv_unified = True  # prefix cells shared between sequences
        params.no_perf = True
        self.ctx = self.lib.llama_init_from_model(llama._model.model, params)
        if not self.ctx:
            raise PermanentBackendError(f"llama.cpp could not make a context of {self.n_ctx} tokens; lower n_ctx")
        self.mem = self.lib.llama_get_memory(self.ctx)
        self.vocab = llama._model.vocab
        self.batch = self.lib.llama_batch_init(self.n_batch, 0, 1)
        self.slots = [_Slot() for _ in range(batch_size)]
        self.pending: deque[_Seq] = deque()
        self.cond = threading.Condition()
        self.closed = False
        self._formatter = _chat_formatter(llama)
        self.decodes = 0  # llama_decode calls and prompt tokens evaluated (for tests and benchmarks)
        self.prompt_tokens_evaluated = 0
        self.thread = threading.Thread(target=self._run, name="sentiforge-batched-decoder", daemon=True)
        self.thread.start()

    # -- the caller's side ---------------------------------------------------------------

    def submit(self, request: ChatRequest, grammar: str | None) -> concurrent.futures.Future[Completion]:
        future: concurrent.futures.Future[Completion] = concurrent.futures.Future()
        prompt, stops = self._prompt(request)
        if len(prompt) + request.max_tokens > self.n_ctx:
            future.set_exception(
                PermanentBackendError(
                    f"the prompt ({len(prompt)} tokens) plus max_tokens ({request.max_tokens}) does not fit the "
                    f"model's context of {self.n_ctx} tokens (shared by the batch); raise the backend's n_ctx or "
                    "shorten the prompt (fewer or shorter few-shot examples)"
                )
            )
            return future
        sampler = self._sampler(request, grammar)
        seq = _Seq(prompt, request.max_tokens, stops, sampler, future)
        with self.cond:
            if self.closed:
                self.lib.llama_sampler_free(sampler)
                raise PermanentBackendError("the batched decoder was closed; load the model again")
            self.pending.append(seq)
            self.cond.notify()
        return future

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join()
        self.lib.llama_batch_free(self.batch)
        self.lib.llama_free(self.ctx)

    def _prompt(self, request: ChatRequest) -> tuple[list[int], tuple[str, ...]]:
        formatted = self._formatter(messages=[m.model_dump() for m in request.messages])
        tokens = self.llama.tokenize(
            formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True
        )
        extra = formatted.stop if isinstance(formatted.stop, list) else [formatted.stop] if formatted.stop else []
        return list(tokens), tuple(request.stop) + tuple(s for s in extra if s)

    def _sampler(self, request: ChatRequest, grammar: str | None) -> Any:
        lib = self.lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if grammar is not None:
            g = lib.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")
            if not g:
                lib.llama_sampler_free(chain)
                raise PermanentBackendError(f"llama.cpp could not parse the grammar {grammar[:200]!r}")
            lib.llama_sampler_chain_add(chain, g)
        if request.temperature == 0.0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        seed = _RANDOM_SEED if request.seed is None else request.seed & 0xFFFFFFFF
        for s in (
            lib.llama_sampler_init_top_k(40),
            lib.llama_sampler_init_top_p(request.top_p, 1),
            lib.llama_sampler_init_min_p(0.05, 1),
            lib.llama_sampler_init_temp(request.temperature),
            lib.llama_sampler_init_dist(seed),
        ):
            lib.llama_sampler_chain_add(chain, s)
        return chain

    # -- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.closed and not self.pending and not self._active():
                    self.cond.wait()
                if self.closed:
                    self._fail_all(PermanentBackendError("the batched decoder was closed"))
                    return
                self._admit()
            try:
                self._step()
            except Exception as exc:  # a failed decode fails the requests in it, not the process
                self._fail_active(PermanentBackendError(f"llama.cpp failed while generating with {self.model}: {exc}"))

    def _active(self) -> list[_Seq]:
        return [s.seq for s in self.slots if s.seq is not None]

    def _admit(self) -> None:
        """Move pending requests into free sequences, each starting from the longest prefix."""
        budget = self.n_ctx - sum(len(s.prompt) + s.max_tokens for s in self._active())
        while self.pending:
            seq = self.pending[0]
            free = [i for i, s in enumerate(self.slots) if s.seq is None]
            if not free or len(seq.prompt) + seq.max_tokens > budget:
                return
            self.pending.popleft()
            budget -= len(seq.prompt) + seq.max_tokens
            self._place(seq, free)

    def _place(self, seq: _Seq, free: list[int]) -> None:
        limit = len(seq.prompt) - 1  # at least one prompt token is decoded, for its logits
        # the slot holding the longest prefix of this prompt (a free one on ties)
        shared, _, src = max(
            (min(_common_prefix(s.tokens, seq.prompt), limit), i in free, i) for i, s in enumerate(self.slots)
        )
        if src in free:
            dst = src
            self.lib.llama_memory_seq_rm(self.mem, dst, shared, -1)
        else:
            dst = free[0]
            self.lib.llama_memory_seq_rm(self.mem, dst, -1, -1)
            self.lib.llama_memory_seq_cp(self.mem, src, dst, 0, shared)
        self.slots[dst] = _Slot(tokens=seq.prompt[:shared], seq=seq)
        seq.slot, seq.fed = dst, shared

    def _step(self) -> None:
        """One llama_decode: a token for each generating sequence, then prompt tokens."""
        rows: list[tuple[_Seq, int]] = []  # sequences whose logits this decode yields, and their row
        n = 0
        for seq in self._active():
            if seq.next_token is not None:
                self._add(n, seq.next_token, seq, logits=True)
                rows.append((seq, n))
                n += 1
        for seq in self._active():
            while seq.fed < len(seq.prompt) and n < self.n_batch:
                last = seq.fed == len(seq.prompt) - 1
                self._add(n, seq.prompt[seq.fed], seq, logits=last)
                if last:
                    rows.append((seq, n))
                seq.fed += 1
                n += 1
                self.prompt_tokens_evaluated += 1
        if n == 0:
            return
        self.batch.n_tokens = n
        self._decode(rows)
        for seq, row in rows:
            self._sample(seq, row)

    def _add(self, row: int, token: int, seq: _Seq, *, logits: bool) -> None:
        slot = self.slots[seq.slot]
        b = self.batch
        b.token[row] = token
        b.pos[row] = len(slot.tokens)
        b.n_seq_id[row] = 1
        b.seq_id[row][0] = seq.slot
        b.logits[row] = logits
        slot.tokens.append(token)

    def _decode(self, rows: list[tuple[_Seq, int]]) -> None:
        rc = self.lib.llama_decode(self.ctx, self.batch)
        self.decodes += 1
        if rc == 1:  # no room in the KV cache: drop idle sequences' cells and retry once
            for i, slot in enumerate(self.slots):
                if slot.seq is None and slot.tokens:
                    self.lib.llama_memory_seq_rm(self.mem, i, -1, -1)
                    slot.tokens = []
            rc = self.lib.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode returned {rc}")

    def _sample(self, seq: _Seq, row: int) -> None:
        if seq.fed < len(seq.prompt):
            return  # a prompt chunk: its last token is in a later decode
        token = int(self.lib.llama_sampler_sample(seq.sampler, self.ctx, row))
        if self.lib.llama_vocab_is_eog(self.vocab, token):
            self._finish(seq, "stop")
            return
        seq.out.append(token)
        seq.text += self.llama.detokenize([token], special=False)
        text = seq.text.decode("utf-8", errors="ignore")
        if any(stop in text for stop in seq.stops):
            self._finish(seq, "stop")
        elif len(seq.out) >= seq.max_tokens:
            self._finish(seq, "length")
        else:
            seq.next_token = token

    def _finish(self, seq: _Seq, reason: str) -> None:
        text = seq.text.decode("utf-8", errors="ignore")
        cut = min((text.index(s) for s in seq.stops if s in text), default=len(text))
        self.slots[seq.slot].seq = None
        self.lib.llama_sampler_free(seq.sampler)
        usage = Usage(prompt_tokens=len(seq.prompt), completion_tokens=len(seq.out))
        seq.future.set_result(Completion(text=text[:cut], model=self.model, finish_reason=reason, usage=usage))

    def _fail_active(self, exc: Exception) -> None:
        for i, slot in enumerate(self.slots):
            if slot.seq is not None:
                self.lib.llama_sampler_free(slot.seq.sampler)
                slot.seq.future.set_exception(exc)
                slot.seq = None
            self.lib.llama_memory_seq_rm(self.mem, i, -1, -1)
            slot.tokens = []

    def _fail_all(self, exc: Exception) -> None:
        self._fail_active(exc)
        while self.pending:
            seq = self.pending.popleft()
            self.lib.llama_sampler_free(seq.sampler)
            seq.future.set_exception(exc)


def schema_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar llama-cpp-python builds for ``response_format`` with a JSON schema."""
    from sentiforge.backends.embedded import llama_cpp_module

    llama_cpp_module()
    from llama_cpp import llama_grammar

    return str(llama_grammar.json_schema_to_gbnf(json.dumps(schema)))


def _chat_formatter(llama: Any) -> Any:
    """The prompt formatter create_chat_completion would use: the named chat format, else
    the GGUF's own template."""
    from llama_cpp import llama_chat_format

    if llama.chat_format and not llama.chat_format.startswith("chat_template."):
        named = getattr(llama_chat_format, f"format_{llama.chat_format.replace('-', '_')}", None)
        if named is not None:
            return named
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise PermanentBackendError(
            f"the model has no chat template for chat format {llama.chat_format!r}; set batch_size: 1 for this model"
        )
    model = llama._model
    eos, bos = model.token_eos(), model.token_bos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=model.token_get_text(eos) if eos != -1 else "",
        bos_token=model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )


__all__ = ["BatchedDecoder", "TransientBackendError", "default_batch_size", "schema_grammar"]
