#!/bin/sh
# The code a shared module runs when it is loaded (its static constructors and destructors)
# must run on any x86-64 CPU: ideu_hog_avx2 is built with AVX2 but loaded on every CPU, and
# only its entry points are kept from CPUs without AVX2. Fails when that code holds a VEX
# instruction (AVX's encoding: mnemonics beginning with "v" in AT&T syntax, or ymm/zmm
# registers) or calls into the module itself (whose functions may hold them).
set -eu
module="$1"
code=$(objdump -d --no-show-raw-insn "$module" | awk '/^[0-9a-f]+ <_GLOBAL__sub_[ID]_/,/^$/')
if [ -z "$code" ]; then
    echo "$module: no static constructors or destructors (nothing runs at load)"
    exit 0
fi
echo "$code"
if printf '%s\n' "$code" | grep -Eq '^ +[0-9a-f]+:[[:space:]]+v[a-z0-9]+[[:space:]]|%[yz]mm'; then
    echo "FAIL: $module runs AVX instructions when it is loaded"
    exit 1
fi
if printf '%s\n' "$code" | grep -E '(call|jmp) +[0-9a-f]+ <[^>]*>' | grep -v '@plt>' | grep -q .; then
    echo "FAIL: $module's load-time code calls into the module"
    exit 1
fi
echo "PASS: $module's load-time code is plain x86-64"
