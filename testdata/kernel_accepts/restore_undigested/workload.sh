#@ META_MB=16
#@ ORIGIN_MB=4096
# The kernel opens restored metadata whose writeset tree holds a writeset longer than the
# device (nr_bits 2097152 > nr_blocks 1048576, bits marked beyond the end): it must digest
# only the first nr_blocks bits.  Era 4 after the open.
era_create 8 8388608
wb 4 1048575                   # era 4
checkpoint
wb 5 2                         # era 5
era_remove
