#@ META_MB=4
#@ ORIGIN_MB=313
# The kernel opens an era_generate image (40000 blocks of 16 sectors = 640000 sectors,
# era 20, writesets of eras 16..20 in the tree): era 21 after the open.
era_create 16 640000
wb 0 1018 39999                # era 21
checkpoint
wb 1 20000                     # era 22
era_remove
