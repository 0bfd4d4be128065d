//! An origin that keeps no data, for runs that only look at the metadata.

use era_tools::emulate::origin::Origin;

/// An origin of the given size in bytes that reads zeros and drops writes.
pub struct NullOrigin(pub u64);

impl Origin for NullOrigin {
    fn len(&self) -> u64 {
        self.0
    }
    fn read_at(&self, _: u64, buf: &mut [u8]) -> std::io::Result<()> {
        buf.fill(0);
        Ok(())
    }
    fn write_at(&self, _: u64, _: &[u8]) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}
