#@ META_MB=4
#@ ORIGIN_MB=64
# Does the kernel accept an era table longer than its origin device?
osz=$(blockdev --getsz "$ORIGIN_DEV")
echo "@@ORIGIN_SECTORS $osz"
if dmsetup create era --table "0 $((osz * 2)) era $META_DEV $ORIGIN_DEV 8" 2>/tmp/err; then
  echo "@@LONG_TABLE accepted"
  dmsetup status era
  dmsetup remove era
else
  echo "@@LONG_TABLE refused: $(cat /tmp/err | tr '\n' ' ')"
fi
dmesg | grep -i -E "device-mapper|era" | tail -5 | sed 's/^/@@DMESG /'
