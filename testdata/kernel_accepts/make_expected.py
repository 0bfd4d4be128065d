#!/usr/bin/env python3
"""make_expected.py INPUT_LOGICAL.xml WORKLOAD.log > expected_workload.txt

The truth after a kernel run on our metadata: the input image's logical content
(`era_dump --logical` of meta_in.img, taken before the kernel ran) overlaid with
every `@@W era block` of the kernel's workload.log (last write wins).  nr_blocks is
the kernel's last @@CREATE/@@RELOAD; blocks at or beyond it are dropped, new blocks
are era 0.  current_era is the era of the last @@STATUS line."""
import re
import sys

xml, log = sys.argv[1], sys.argv[2]
eras = {}
for m in re.finditer(r'<era block="(\d+)" era="(\d+)"/>', open(xml).read()):
    if int(m.group(2)):
        eras[int(m.group(1))] = int(m.group(2))
nr_blocks = None
current = None
for line in open(log):
    f = line.split()
    if not f:
        continue
    if f[0] in ("@@CREATE", "@@RELOAD"):
        nr_blocks = int(f[4])
    elif f[0] == "@@STATUS":
        current = int(f[7])
    elif f[0] == "@@W":
        eras[int(f[2])] = int(f[1])
assert nr_blocks is not None and current is not None, "log has no @@CREATE / @@STATUS"
print("# logical era of each block: era_dump --logical of meta_in.img overlaid with workload.log")
print(f"# nr_blocks={nr_blocks} current_era={current}; format: block era (unlisted blocks: era 0)")
for b in sorted(eras):
    if b < nr_blocks:
        print(b, eras[b])
