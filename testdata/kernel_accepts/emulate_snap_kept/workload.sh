#@ META_MB=4
#@ ORIGIN_MB=64
# The kernel opens metadata written by era_emulate with a metadata snapshot still held,
# and keeps it held while it writes, checkpoints and closes: the snapshot (shared
# structures, reference counts above one) must survive the kernel's shadowing intact.
era_create 8
wb 0 3 100 1018                # E+1
checkpoint
wb 3 16000 1
suspend_resume
wb 2
era_remove
