#!/usr/bin/python3
"""Demo task files for quantlab's task modes, made from the demo's own held-out text.

Reads models/demo/eval.txt (the demo corpus' evaluation split, written by make_corpus.py for this
project; no third-party text) and writes the three task formats llama-perplexity reads:

  hellaswag.txt   HellaSwag text format (6 lines per task): a document's first sentences as the
                  context, then 4 endings: the document's true next sentence and 3 sentences taken
                  from other documents. The demo grammar makes the true one the likely one (the
                  names, objects and numbers of the context recur in it).
  winogrande.csv  Winogrande CSV: one lowercase word of a sentence (after up to 2 sentences of
                  its document) is the blank; the choices are that word and a lowercase word that
                  follows the same word elsewhere in the text (else any). The rest of the sentence follows the demo's sentence
                  patterns, so it fits the true word. (Names and numbers would not do: the demo
                  model does not copy them from its context.) The file ends
                  with an empty line, so that llama-perplexity reads its last task too.
  mc.bin          multiple-choice binary format: like hellaswag.txt, from other documents, with 2 to
                  4 answers per task.

Usage: make_tasks.py [--eval models/demo/eval.txt] [--out-dir models/demo/tasks] [--seed 7] [-n 150]
Deterministic for a given seed.
"""

import argparse
import os
import random
import re
import struct

SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-Z])')


def sentences(doc):
    return [s for s in SENTENCE_END.split(doc.strip()) if s]


def usable(doc):
    """Documents with at least 3 sentences and no quote marks (dialogue) in the first ones."""
    return len(sentences(doc)) >= 3


def completion_tasks(docs, rng, n, max_answers, min_answers):
    """(context, answers, gold) with the true next sentence among sentences of other documents."""
    pool = [s for d in docs for s in sentences(d)[1:]]
    tasks = []
    order = list(range(len(docs)))
    rng.shuffle(order)
    for i in order:
        sents = sentences(docs[i])
        if len(sents) < 3:
            continue
        k = rng.randint(1, min(len(sents) - 1, 4))
        context = ' '.join(sents[:k])
        truth = sents[k]
        if len(context) > 400 or len(truth) > 200:
            continue
        own = set(sents)
        n_answers = rng.randint(min_answers, max_answers)
        wrong = []
        while len(wrong) < n_answers - 1:
            s = rng.choice(pool)
            if s not in own and s not in wrong and len(s) <= 200:
                wrong.append(s)
        gold = rng.randrange(n_answers)
        answers = wrong[:gold] + [truth] + wrong[gold:]
        tasks.append((context, answers, gold))
        if len(tasks) == n:
            break
    return tasks


def blank_tasks(docs, rng, n):
    """(first, second, choices, answer) for Winogrande: one lowercase word of a sentence blanked, the
    other choice a lowercase word from elsewhere in the text. What follows the blank (at least 4
    words) fits the true word in the demo's sentence patterns and mostly not the other."""
    words = sorted({w for d in docs for w in d.split() if w.isalpha() and w.islower()})
    # Lowercase words seen after each word: a distractor that fits the text before the blank, so
    # that only the text after it tells the choices apart.
    followers = {}
    for d in docs:
        ws = d.split()
        for a, b in zip(ws, ws[1:]):
            if b.isalpha() and b.islower():
                followers.setdefault(a, set()).add(b)
    tasks = []
    order = list(range(len(docs)))
    rng.shuffle(order)
    for i in order:
        sents = sentences(docs[i])
        k = rng.randrange(len(sents))
        target = sents[k].split()
        positions = [j for j in range(1, len(target) - 4) if target[j].isalpha() and target[j].islower()]
        if not positions:
            continue
        j = rng.choice(positions)
        context = ' '.join(sents[max(0, k - 2):k])
        first = (context + ' ' if context else '') + ' '.join(target[:j]) + ' '
        second = ' ' + ' '.join(target[j + 1:])
        truth = target[j]
        candidates = sorted(followers.get(target[j - 1], set()) - {truth}) or [w for w in words if w != truth]
        other = rng.choice(candidates)
        sentence = first + '_' + second
        if '"' in sentence or len(sentence) > 400:
            continue
        answer = rng.randint(1, 2)
        choices = [truth, other] if answer == 1 else [other, truth]
        tasks.append((first, second, choices, answer))
        if len(tasks) == n:
            break
    return tasks


def write_hellaswag(path, tasks):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        for context, endings, gold in tasks:
            f.write('\n'.join([context, str(gold)] + endings) + '\n')


def write_winogrande(path, tasks):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        f.write('index,sentence,option1,option2,answer\n')
        for i, (first, second, choices, answer) in enumerate(tasks):
            f.write(f'{i},"{first}_{second}",{choices[0]},{choices[1]},{answer}\n')
        f.write('\n')  # llama-perplexity reads a last line only when an empty line follows it


def pack_string(s):
    b = s.encode('utf-8')
    return struct.pack('<I', len(b)) + b


def write_multiple_choice(path, tasks):
    blobs = []
    for question, answers, gold in tasks:
        blob = pack_string(question)
        blob += struct.pack('<I', len(answers)) + b''.join(pack_string(a) for a in answers)
        blob += struct.pack(f'<{len(answers)}i', *[1 if j == gold else 0 for j in range(len(answers))])
        blob += struct.pack('<I', 0)  # no second answer set
        blobs.append(blob)
    offset = 4 + 4 * len(blobs)
    offsets = []
    for blob in blobs:
        offsets.append(offset)
        offset += len(blob)
    with open(path, 'wb') as f:
        f.write(struct.pack('<I', len(blobs)) + struct.pack(f'<{len(blobs)}I', *offsets) + b''.join(blobs))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    demo = os.path.join(here, '..', '..', 'models', 'demo')
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--eval', default=os.path.join(demo, 'eval.txt'))
    ap.add_argument('--out-dir', default=os.path.join(demo, 'tasks'))
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('-n', type=int, default=150, help='tasks per file')
    args = ap.parse_args()
    with open(args.eval, encoding='utf-8') as f:
        docs = [line.rstrip('\n') for line in f if line.strip()]
    rng = random.Random(args.seed)
    half = len(docs) // 2
    os.makedirs(args.out_dir, exist_ok=True)
    hs = completion_tasks(docs[:half], rng, args.n, 4, 4)
    wg = blank_tasks(docs, rng, args.n)
    mc = completion_tasks(docs[half:], rng, args.n, 4, 2)
    write_hellaswag(os.path.join(args.out_dir, 'hellaswag.txt'), hs)
    write_winogrande(os.path.join(args.out_dir, 'winogrande.csv'), wg)
    write_multiple_choice(os.path.join(args.out_dir, 'mc.bin'), mc)
    print(f'{len(hs)} HellaSwag, {len(wg)} Winogrande, {len(mc)} multiple-choice tasks in {args.out_dir}')


if __name__ == '__main__':
    main()
