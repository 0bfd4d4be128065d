#!/usr/bin/env python3
"""truth.py CASEDIR: rewrite CASEDIR/expected_workload.txt (and _snap.txt when a snapshot is
held) from CASEDIR/workload.log, as the oracle's analyze.py does, plus one rule analyze.py
lacks: a shrink (a reload, or a re-open, to fewer blocks) forgets every block at or beyond
the new end, so a later grow brings those blocks back at era 0. That is what the kernel
does when the digest keeps pace: the era array is cut at the shrink, and the writeset
archived at the reload is digested only up to the new nr_blocks (target.md 8.1, 13)."""
import os
import sys


def main(d):
    m, nb, era, snap = {}, None, None, None
    with open(os.path.join(d, "workload.log"), errors="replace") as f:
        for line in f:
            w = line.split()
            if not w or not w[0].startswith("@@"):
                continue
            k, a = w[0][2:], w[1:]
            if k in ("CREATE", "RELOAD"):
                new = int(a[3])
                if nb is not None and new < nb:
                    m = {b: e for b, e in m.items() if b < new}
                nb = new
            elif k == "W":
                m[int(a[1])] = int(a[0])
            elif k == "STATUS" and len(a) >= 7 and a[3] == "era":
                era = int(a[6])
            elif k == "REMOVE":
                era = int(a[1])
            elif k == "SNAP_TAKE":
                snap = (dict(m), nb, int(a[1]), a[2])
            elif k == "SNAP_DROP":
                snap = None

    def dump(name, m, nb, era, note):
        with open(os.path.join(d, name), "w") as f:
            f.write("# %s\n# nr_blocks=%s current_era=%s; format: block era (unlisted blocks: era 0)\n"
                    % (note, nb, era))
            for b in sorted(m):
                f.write("%d %d\n" % (b, m[b]))

    dump("expected_workload.txt", m, nb, era,
         "logical era of each written block, from workload.log (testdata/kernel_random/truth.py)")
    if snap:
        dump("expected_workload_snap.txt", snap[0], snap[1], snap[2],
             "writes made before the held metadata snapshot (root %s)" % snap[3])


if __name__ == "__main__":
    main(sys.argv[1])
