#!/usr/bin/env python3
"""generate.py: the workloads of testdata/kernel_random, for the dm-era oracle.

usage:
  generate.py OUTDIR            write every workload of the corpus into OUTDIR/CASE.sh
  generate.py CASE              print one workload (a case name of the corpus: rand_NN,
                                race_NN or stress_*)
  generate.py --seed N [--raced]
                                print the random workload of seed N

Every workload is a pure function of its name: Python's random.Random(seed) (the Mersenne
twister, stable across Python 3 versions for randrange/choice/random) drives it, and nothing
else. The output uses only the harness vocabulary of the oracle's guest/lib.sh (era_create,
wb, wsect, rb, checkpoint, suspend_resume, take_snap, drop_snap, era_reload, era_status,
era_remove; no era_remove at the end = a crash: the VM powers off with the device live),
plus two local helpers defined at the top of every workload:

  req SECTOR NSECT   one write request (one dd): logs "@@REQ SECTOR NSECT", then wsect, so a
                     replay knows which @@W lines belong to one request (lib.sh's wsect logs
                     one @@W per block touched and nothing about the request)
  pace               "sleep 0.2": lets the kernel's background digest finish before the next
                     operation (see README.md, "The digest race")

Paced workloads (rand_*, stress_*) call `pace` after every operation that archives a
writeset or changes the geometry, and every write request of theirs stays inside one block;
raced ones (race_*) never pace, use larger devices so that a digest takes many worker
passes, and also write requests that span several blocks (dm splits them into one bio per
block, and whether the worker runs between two pieces depends on timing).
"""
import random
import sys

RANDOM_SEEDS = list(range(1, 25))  # rand_01 .. rand_24
RACED_SEEDS = [1, 2, 3]  # race_01 .. race_03
STRESS = ["stress_writesets", "stress_snap_cycles", "stress_resize_digest",
          "stress_two_bitmaps", "stress_wide_paced"]

HEADER = """\
# local helpers (see testdata/kernel_random/generate.py)
req() { echo "@@REQ $1 $2"; wsect "$1" "$2"; }
pace() { sleep 0.2; }
"""


def div_ceil(a, b):
    return (a + b - 1) // b


class Gen:
    def __init__(self, seed, raced):
        self.r = random.Random(seed * 1000 + (7 if raced else 0))
        self.raced = raced
        self.lines = []
        self.max_len = 0
        self.held = False

    def emit(self, s):
        self.lines.append(s)

    def pace(self):
        if not self.raced:
            self.emit("pace")

    def set_len(self, length):
        self.len = length
        self.nr = div_ceil(length, self.bs)
        self.max_len = max(self.max_len, length)

    def random_len(self):
        r = self.r
        nr = r.randrange(200, 60000) if self.raced else r.choice(
            [r.randrange(16, 300), r.randrange(300, 3000), r.randrange(1000, 9000)])
        length = nr * self.bs
        if r.random() < 0.5:  # a partial last block
            length -= r.randrange(1, self.bs)
        return length

    def block(self):
        """A block of the device: uniform, near a boundary that matters to the metadata
        (bitset word 64, era-array block 1018 entries, bitset array block 509 words), the
        last block, or a small hot set."""
        r, nr = self.r, self.nr
        k = r.random()
        if k < 0.45:
            return r.randrange(nr)
        if k < 0.7:
            m = r.choice([64, 1018, 509 * 64])
            base = m * r.randrange(0, max(1, nr // m) + 1)
            return max(0, min(nr - 1, base + r.randrange(-2, 2)))
        if k < 0.8:
            return nr - 1 - r.randrange(min(3, nr))
        return r.randrange(min(nr, 40))

    def whole_ok(self, b):
        """wb and rb move 8 sectors at the start of block b."""
        return b * self.bs + 8 <= self.len

    def op_wb(self):
        bs = [b for b in (self.block() for _ in range(self.r.randrange(1, 7))) if self.whole_ok(b)]
        if bs:
            self.emit("wb " + " ".join(map(str, bs)))

    def op_partial(self):
        r = self.r
        b = self.block()
        s = b * self.bs + r.randrange(self.bs)
        n = r.choice([1, 2, 3, 7, 8, self.bs - 1, self.bs + 1, 2 * self.bs + 5])
        n = max(1, min(n, self.len - s))
        if not self.raced:
            # paced: stay inside the block (see README.md, "The split race")
            n = max(1, min(n, (b + 1) * self.bs - s))
        if s < self.len:
            self.emit(f"req {s} {n}")

    def op_range(self):
        r = self.r
        count = r.randrange(2, 6)
        first = min(self.block(), self.len // self.bs - count)
        if first < 0:
            return
        if self.raced:
            self.emit(f"req {first * self.bs} {count * self.bs}  # wrange {first} {count}")
        else:  # paced: one request per block (see README.md, "The split race")
            self.emit("wb " + " ".join(str(b) for b in range(first, first + count)))

    def op_read(self):
        bs = [b for b in (self.block() for _ in range(self.r.randrange(1, 4))) if self.whole_ok(b)]
        if bs:
            self.emit("rb " + " ".join(map(str, bs)))

    def op_checkpoint(self):
        self.emit("checkpoint")
        self.pace()

    def op_suspend(self):
        self.emit("suspend_resume")
        self.pace()

    def op_snap(self):
        self.emit("drop_snap" if self.held else "take_snap")
        self.held = not self.held
        self.pace()

    def op_reload(self):
        self.set_len(self.random_len())
        self.emit(f"era_reload {self.len}")
        self.pace()

    def op_reopen(self):
        self.emit("era_remove")
        self.emit(f"era_create {self.bs} {self.len}")
        self.pace()

    def op_status(self):
        self.emit("era_status")

    def workload(self, name, seed):
        r = self.r
        self.bs = r.choice([8, 8, 8, 16, 24, 40, 64, 128, 256])
        meta_mb = r.choice([1, 2, 2, 4, 8])
        self.set_len(self.random_len())
        self.emit(f"era_create {self.bs} {self.len}")
        ops = [(self.op_wb, 30), (self.op_partial, 14), (self.op_range, 8), (self.op_read, 5),
               (self.op_checkpoint, 12), (self.op_suspend, 5), (self.op_snap, 5),
               (self.op_reload, 3), (self.op_reopen, 2), (self.op_status, 4)]
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        for _ in range(r.randrange(15, 45)):
            r.choices(funcs, weights)[0]()
        crash = r.random() < 0.25
        if crash:
            self.emit("era_status final   # then the power goes off: a crash image")
        else:
            self.emit("era_remove")
        kind = "raced: no pauses" if self.raced else "paced"
        head = [f"#@ META_MB={meta_mb}", f"#@ ORIGIN_MB={div_ceil(self.max_len * 512, 1 << 20) + 1}",
                f"# {name}: random workload, seed {seed} ({kind}); generated by",
                "# testdata/kernel_random/generate.py, do not edit",
                f"# block size {self.bs} sectors, first length {self.lines[0].split()[2]} sectors"
                f"{', ends in a crash' if crash else ''}"]
        return "\n".join(head) + "\n" + HEADER + "\n".join(self.lines) + "\n"


def random_workload(seed, raced=False):
    name = f"{'race' if raced else 'rand'}_{seed:02d}"
    return Gen(seed, raced).workload(name, seed)


def stress(name):
    """The four placement-stress cases."""
    L = []
    if name == "stress_writesets":
        # many small writesets: 90 eras of 1..3 writes on a 1 MiB metadata device, so the
        # allocator wraps many times; each writeset is archived (by a checkpoint, or every
        # tenth by suspend + resume), digested during the pace, and its blocks freed.
        head = ["#@ META_MB=1", "#@ ORIGIN_MB=17",
                "# stress_writesets: 90 small writesets (1..3 writes each) on a 1 MiB metadata",
                "# device (256 blocks): the allocator wraps around many times"]
        r = random.Random(90)
        L.append("era_create 8 32000")
        for i in range(90):
            blocks = [r.randrange(4000) for _ in range(r.randrange(1, 4))]
            L.append("wb " + " ".join(map(str, blocks)))
            L.append("suspend_resume" if i % 10 == 9 else "checkpoint")
            L.append("pace")
        L.append("era_remove")
    elif name == "stress_snap_cycles":
        head = ["#@ META_MB=2", "#@ ORIGIN_MB=9",
                "# stress_snap_cycles: 12 metadata snapshot take/drop cycles with writes and",
                "# checkpoints between, the last snapshot left held"]
        r = random.Random(12)
        L.append("era_create 16 16000")
        for i in range(12):
            L.append("wb " + " ".join(str(r.randrange(1000)) for _ in range(4)))
            L.append("take_snap")
            L.append("pace")
            L.append("wb " + " ".join(str(r.randrange(1000)) for _ in range(3)))
            L.append("checkpoint")
            L.append("pace")
            if i < 11:
                L.append("drop_snap")
                L.append("pace")
        L.append("era_remove")
    elif name == "stress_resize_digest":
        # writesets archived at one length, digested at another: at each reload the old
        # instance archives the current writeset (nr_bits = the old length) and the new one
        # digests it after the resize, so a grow leaves the new blocks alone and a shrink
        # skips the marked bits beyond the new end.
        head = ["#@ META_MB=4", "#@ ORIGIN_MB=25",
                "# stress_resize_digest: resizes with writesets in flight: each reload archives",
                "# the current writeset at the old length and the digest folds it in after the",
                "# resize (grow 3000 -> 6000 -> shrink 2500 with marks beyond -> grow 4100)"]
        L += ["era_create 8 24000", "wb 1 2 64 1017 1018 2999", "checkpoint",
              "wb 5 6 2998", "era_reload 48000", "pace",
              "wb 2999 3000 5999 4500", "req 47990 2", "era_reload 20000", "pace",
              "wb 7 2499", "era_status", "era_reload 32800", "pace",
              "wb 4099 2500 2999", "checkpoint", "pace", "era_remove"]
    elif name == "stress_two_bitmaps":
        # 16320 blocks per bitmap (format.md 7.2): a grow to 16.8M blocks allocates 16,503
        # era-array blocks one by one in one instance, so the space map counts blocks past
        # 16320, in its second bitmap; the shrink after it frees them again (a reload
        # opens a new instance, whose allocator starts at block 0 again, placement.md 2.1).
        head = ["#@ META_MB=72", "#@ ORIGIN_MB=65627", "#@ TIMEOUT=900",
                "# stress_two_bitmaps: a 72 MiB metadata device (18432 blocks, two bitmaps);",
                "# grow to 16.8M blocks (16,503 era-array blocks: the space map spills into its",
                "# second bitmap), write, shrink back"]
        L += ["era_create 8 262144", "wb 0 1 4095", "era_reload 134400000", "pace",
              "wb 5 16613760 16799999", "era_status", "era_reload 262144", "pace",
              "wb 7", "checkpoint", "pace", "era_remove"]
    elif name == "stress_wide_paced":
        # testdata/kernel's `wide` with a 5 s pause after each checkpoint: its writesets of
        # 262,144 bits take 2,622 digest passes, which in `wide` ran into the next round's
        # writes (placement.md 2.12); here each digest should finish first.
        head = ["#@ META_MB=8", "#@ ORIGIN_MB=1024", "#@ TIMEOUT=540",
                "# stress_wide_paced: testdata/kernel/wide (262144 blocks, 5 eras of 300 LCG",
                "# writes) with a 5 s pause after each checkpoint, so that each digest of",
                "# 2,622 passes finishes before the next writes"]
        L += ["era_create 8", "rng_seed 7", "round=1", "while [ $round -le 5 ]; do",
              "    i=0", "    while [ $i -lt 300 ]; do", "        rng_block", "        wb $RB",
              "        i=$((i + 1))", "    done", "    era_status round$round",
              "    [ $round -lt 5 ] && checkpoint && sleep 5", "    round=$((round + 1))",
              "done", "wb 0 1017 1018 2035 2036 131071 131072 258043 258044 262143",
              "era_remove"]
    else:
        raise SystemExit(f"generate.py: no case {name}")
    return "\n".join(head) + "\n" + HEADER + "\n".join(L) + "\n"


def cases():
    out = {f"rand_{s:02d}": (lambda s=s: random_workload(s)) for s in RANDOM_SEEDS}
    out.update({f"race_{s:02d}": (lambda s=s: random_workload(s, True)) for s in RACED_SEEDS})
    out.update({n: (lambda n=n: stress(n)) for n in STRESS})
    return out


def main(argv):
    if len(argv) >= 2 and argv[0] == "--seed":
        sys.stdout.write(random_workload(int(argv[1]), "--raced" in argv))
    elif len(argv) == 1 and argv[0] in cases():
        sys.stdout.write(cases()[argv[0]]())
    elif len(argv) == 1:
        import os
        os.makedirs(argv[0], exist_ok=True)
        for name, f in cases().items():
            with open(os.path.join(argv[0], name + ".sh"), "w") as fh:
                fh.write(f())
    else:
        sys.stdout.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
