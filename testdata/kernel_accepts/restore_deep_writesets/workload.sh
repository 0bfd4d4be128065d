#@ META_MB=4
#@ ORIGIN_MB=16
# The kernel opens restored metadata whose writeset tree has 250 writesets (eras 51..300,
# two leaves) and digests them while it works: era 301 after the open.
era_create 8
wb 0 4095                      # era 301
checkpoint
wb 1 2048                      # era 302
suspend_resume
wb 2                           # era 303
era_remove
