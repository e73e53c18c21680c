#!/usr/bin/python3
"""Train quantlab's demo model (dev-time tool; the product never runs Python).

Steps (all deterministic from --seed):
  1. SentencePiece BPE vocabulary with byte fallback on the training split,
     set up to tokenize exactly like llama.cpp's SPM tokenizer (no
     normalization, no whitespace squeezing, a leading space added).
  2. A small llama-architecture model (see model.py) trained on CPU.
  3. Perplexity on the evaluation split computed the way llama-perplexity does
     it: whole text tokenized with BOS, consecutive n_ctx chunks, first token
     of each chunk replaced by BOS, only the second half of each chunk scored.

Writes WORK/spm.model, WORK/model.pt (weights + config) and WORK/metrics.json.
Run: nice /usr/bin/python3 tools/demo/train.py --work tools/demo/work
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import Config, Llama  # noqa: E402

BOS = 1


def train_tokenizer(train_txt, prefix, vocab_size, seed):
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        input=train_txt, model_prefix=prefix, vocab_size=vocab_size,
        model_type="bpe", byte_fallback=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
        input_sentence_size=0, shuffle_input_sentence=False,
        num_threads=1, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


def training_stream(sp, text, seed):
    """Documents are grouped into runs of 1-8; each run is tokenized as one
    text with BOS in front (as llama.cpp would tokenize a prompt), so the
    model sees both "BOS Once ..." starts and documents following a newline."""
    rng = random.Random(seed)
    docs = [d for d in text.split("\n") if d]
    groups, i = [], 0
    while i < len(docs):
        n = rng.randint(1, 8)
        groups.append("\n".join(docs[i:i + n]) + "\n")
        i += n
    ids = sp.encode(groups)
    out = []
    for g in ids:
        out.append(BOS)
        out.extend(g)
    return np.array(out, dtype=np.int64)


def round_to_f16(model):
    """A copy of the weights as the F16 GGUF stores them (norms stay F32)."""
    sd = {}
    for k, v in model.state_dict().items():
        sd[k] = v.half().float() if v.dim() == 2 else v.clone()
    return sd


@torch.no_grad()
def perplexity(model, tokens, n_ctx, batch=16):
    """llama-perplexity's method; returns (ppl, n_chunks, n_scored)."""
    model.eval()
    n_chunks = len(tokens) // n_ctx
    first = n_ctx // 2
    nll, count = 0.0, 0
    for c0 in range(0, n_chunks, batch):
        rows = []
        for c in range(c0, min(n_chunks, c0 + batch)):
            row = tokens[c * n_ctx:(c + 1) * n_ctx].copy()
            row[0] = BOS
            rows.append(row)
        x = torch.from_numpy(np.stack(rows))
        logits = model(x).double()
        # logits at positions first..n_ctx-2 predict tokens first+1..n_ctx-1
        lp = F.log_softmax(logits[:, first:n_ctx - 1], dim=-1)
        tgt = x[:, first + 1:]
        nll -= lp.gather(-1, tgt[..., None]).sum().item()
        count += tgt.numel()
    return math.exp(nll / count), n_chunks, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True, help="folder with train.txt")
    ap.add_argument("--eval", required=True, help="evaluation split")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=3000)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--checkpoint-every", type=int, default=0,
                    help="also save WORK/model-STEP.pt every N steps (0: never)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-ctx", type=int, nargs="+", default=[256, 128])
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    t_start = time.time()

    sp = train_tokenizer(os.path.join(args.work, "train.txt"),
                         os.path.join(args.work, "spm"), args.vocab, args.seed)
    assert sp.bos_id() == 1 and sp.eos_id() == 2 and sp.unk_id() == 0
    with open(os.path.join(args.work, "train.txt"), encoding="ascii") as f:
        data = training_stream(sp, f.read(), args.seed)
    with open(args.eval, encoding="ascii") as f:
        eval_tokens = np.array([BOS] + sp.encode(f.read()), dtype=np.int64)
    print(f"tokenizer: {sp.get_piece_size()} pieces; train {len(data)} tokens, "
          f"eval {len(eval_tokens)} tokens", flush=True)

    cfg = Config(vocab_size=sp.get_piece_size(), n_layers=args.layers)
    model = Llama(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params} parameters, config {cfg.to_dict()}", flush=True)

    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    gen = torch.Generator().manual_seed(args.seed)
    T = cfg.context
    t_train = time.time()
    model.train()
    ema = None
    for step in range(args.steps):
        if step < args.warmup:
            lr = args.lr * (step + 1) / args.warmup
        else:
            prog = (step - args.warmup) / max(1, args.steps - args.warmup)
            lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * prog)))
        for g in opt.param_groups:
            g["lr"] = lr
        offs = torch.randint(0, len(data) - T - 1, (args.batch,), generator=gen)
        batch = np.stack([data[o:o + T + 1] for o in offs.tolist()])
        # llama-perplexity puts BOS at the start of every window; do the same.
        batch[:, 0] = BOS
        batch = torch.from_numpy(batch)
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, cfg.vocab_size),
                               batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            el = time.time() - t_train
            print(f"step {step:5d} loss {loss.item():.4f} ema {ema:.4f} lr {lr:.2e} "
                  f"{el:7.1f}s ({(step + 1) * args.batch * T / el:.0f} tok/s)",
                  flush=True)
        if args.checkpoint_every and (step + 1) % args.checkpoint_every == 0:
            torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()},
                       os.path.join(args.work, f"model-{step + 1}.pt"))
    train_seconds = time.time() - t_train

    torch.save({"config": cfg.to_dict(), "state_dict": model.state_dict()},
               os.path.join(args.work, "model.pt"))

    metrics = {"params": n_params, "train_tokens": int(len(data)),
               "eval_tokens": int(len(eval_tokens)), "steps": args.steps,
               "batch": args.batch, "lr": args.lr,
               "weight_decay": args.weight_decay, "train_seconds": round(train_seconds, 1),
               "final_loss_ema": round(ema, 4), "seed": args.seed,
               "perplexity_f32": {}, "perplexity_f16_weights": {}}
    for n_ctx in args.eval_ctx:
        ppl, chunks, scored = perplexity(model, eval_tokens, n_ctx)
        metrics["perplexity_f32"][str(n_ctx)] = round(ppl, 4)
        print(f"eval n_ctx={n_ctx}: {chunks} chunks, {scored} scored tokens, "
              f"PPL (f32 weights) = {ppl:.4f}", flush=True)
    f16_model = Llama(cfg)
    f16_model.load_state_dict(round_to_f16(model))
    for n_ctx in args.eval_ctx:
        ppl, _, _ = perplexity(f16_model, eval_tokens, n_ctx)
        metrics["perplexity_f16_weights"][str(n_ctx)] = round(ppl, 4)
        print(f"eval n_ctx={n_ctx}: PPL (weights rounded to f16) = {ppl:.4f}",
              flush=True)
    metrics["total_seconds"] = round(time.time() - t_start, 1)
    with open(os.path.join(args.work, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1)
    print(json.dumps(metrics))


if __name__ == "__main__":
    main()
