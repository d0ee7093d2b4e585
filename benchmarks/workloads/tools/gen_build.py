#!/usr/bin/env python3
"""gen_build.py DIR N: writes a C project of N small modules plus main.c and a Makefile into DIR.

`make -j2` in DIR compiles every module into obj/ and links ./app; `./app` prints a checksum.
Each module has a few functions with loops, a table and a struct, so that one compile takes
tens of milliseconds, like a small real source file."""
import os
import sys

root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{root}/src", exist_ok=True)
os.makedirs(f"{root}/include", exist_ok=True)

with open(f"{root}/include/common.h", "w") as f:
    f.write("#ifndef COMMON_H\n#define COMMON_H\n#include <stddef.h>\n#include <stdint.h>\n"
            "typedef struct { uint64_t a, b; double c; char name[32]; } item_t;\n")
    for i in range(n):
        f.write(f"uint64_t module_{i}(uint64_t seed);\n")
    f.write("#endif\n")

for i in range(n):
    with open(f"{root}/src/m{i:04d}.c", "w") as f:
        f.write(f"""#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "common.h"

static const uint32_t table_{i}[64] = {{ {", ".join(str((i * 2654435761 + k * 40503) % 4294967291) for k in range(64))} }};

static uint64_t mix_{i}(uint64_t x) {{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}}

static void fill_{i}(item_t *items, size_t count, uint64_t seed) {{
    for (size_t k = 0; k < count; k++) {{
        items[k].a = mix_{i}(seed + k);
        items[k].b = table_{i}[k % 64] ^ items[k].a;
        items[k].c = (double)(items[k].a % 1000) / 7.0;
        snprintf(items[k].name, sizeof items[k].name, "m{i}-%zu", k);
    }}
}}

static int cmp_{i}(const void *x, const void *y) {{
    const item_t *p = x, *q = y;
    return p->b < q->b ? -1 : p->b > q->b;
}}

uint64_t module_{i}(uint64_t seed) {{
    item_t items[48];
    fill_{i}(items, 48, seed);
    qsort(items, 48, sizeof items[0], cmp_{i});
    uint64_t h = seed;
    for (size_t k = 0; k < 48; k++) {{
        h = mix_{i}(h ^ items[k].b) + (uint64_t)items[k].c + strlen(items[k].name);
        switch (h % 5) {{
        case 0: h += table_{i}[(h >> 7) % 64]; break;
        case 1: h ^= h << 3; break;
        case 2: h -= k * {i + 1}; break;
        default: h = mix_{i}(h); break;
        }}
    }}
    return h;
}}
""")

with open(f"{root}/src/main.c", "w") as f:
    f.write('#include <stdio.h>\n#include "common.h"\nint main(void) {\n    uint64_t h = 1;\n')
    for i in range(n):
        f.write(f"    h = module_{i}(h);\n")
    f.write('    printf("%llu\\n", (unsigned long long)h);\n    return 0;\n}\n')

with open(f"{root}/Makefile", "w") as f:
    f.write("""CC ?= gcc
CFLAGS ?= -O2 -g -Wall -Iinclude
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,obj/%.o,$(SRCS))

app: $(OBJS)
\t$(CC) -o $@ $(OBJS)

obj/%.o: src/%.c include/common.h | obj
\t$(CC) $(CFLAGS) -MMD -c -o $@ $<

obj:
\tmkdir -p obj

clean:
\trm -rf obj app

-include $(OBJS:.o=.d)
.PHONY: clean
""")
