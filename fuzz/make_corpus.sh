#!/usr/bin/env bash
# Regenerates the fuzzer's seed corpus (fuzz/corpus/gguf/): small valid GGUF files from quantlab's own
# writer. Usage: fuzz/make_corpus.sh [path/to/quantlab]
set -euo pipefail
cd "$(dirname "$0")/.."
QUANTLAB=${1:-build/quantlab}
out=fuzz/corpus/gguf
mkdir -p "$out"
tiny=(--layers 1 --embd 8 --heads 2 --heads-kv 1 --ff 16 --vocab 260 --ctx 64)
"$QUANTLAB" synth "$out/synth-f32-tied.gguf" "${tiny[@]}" --type f32 --tied --seed 1 >/dev/null
"$QUANTLAB" synth "$out/synth-f16-gqa.gguf" "${tiny[@]}" --type f16 --seed 2 >/dev/null
"$QUANTLAB" synth "$out/synth-bf16-2layer.gguf" --layers 2 --embd 8 --heads 2 --heads-kv 2 --ff 16 --vocab 261 \
  --type bf16 --seed 3 >/dev/null
# Every metadata value type (nested array included), alignment 64, three tensor types.
/usr/bin/python3 - "$out/all-value-types.gguf" <<'PY'
import struct, sys
def s(t): b = t.encode(); return struct.pack('<Q', len(b)) + b
kv = [
    s('general.alignment') + struct.pack('<II', 4, 64),
    s('general.architecture') + struct.pack('<I', 8) + s('llama'),
    s('u8') + struct.pack('<IB', 0, 200), s('i8') + struct.pack('<Ib', 1, -3),
    s('u16') + struct.pack('<IH', 2, 60000), s('i16') + struct.pack('<Ih', 3, -300),
    s('i32') + struct.pack('<Ii', 5, -7), s('f32') + struct.pack('<If', 6, 0.5),
    s('bool') + struct.pack('<IB', 7, 1), s('u64') + struct.pack('<IQ', 10, 2**63),
    s('i64') + struct.pack('<Iq', 11, -2**40), s('f64') + struct.pack('<Id', 12, 1e-300),
    s('tokenizer.ggml.tokens') + struct.pack('<IIQ', 9, 8, 3) + s('<unk>') + s('<s>') + s('\u2581a'),
    s('nested') + struct.pack('<IIQ', 9, 9, 2) + struct.pack('<IQ', 5, 2) + struct.pack('<ii', 1, 2)
        + struct.pack('<IQ', 8, 1) + s('x'),
]
tensors = [('a', [4], 0, 16), ('q', [32, 2], 8, 68), ('h', [3, 2], 1, 12)]
info, offset = b'', 0
for name, shape, ty, size in tensors:
    info += s(name) + struct.pack('<I', len(shape)) + b''.join(struct.pack('<q', d) for d in shape)
    info += struct.pack('<IQ', ty, offset)
    offset += (size + 63) // 64 * 64
data = b''.join((bytes([i + 1]) * size).ljust((size + 63) // 64 * 64, b'\0') for i, (_, _, _, size) in enumerate(tensors))
head = b'GGUF' + struct.pack('<IQQ', 3, len(tensors), len(kv)) + b''.join(kv) + info
head += b'\0' * (-len(head) % 64)
open(sys.argv[1], 'wb').write(head + data)
PY
ls -l "$out"
