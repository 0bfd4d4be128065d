//! Protocol constants (the NBD protocol's proto.md), checked against qemu-io and
//! libnbd by the serve tests.

/// "NBDMAGIC": the server's first eight bytes.
pub const NBDMAGIC: u64 = 0x4e42_444d_4147_4943;
/// "IHAVEOPT": newstyle negotiation; also the prefix of every option.
pub const IHAVEOPT: u64 = 0x4948_4156_454f_5054;
/// Magic of an option reply.
pub const REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;
/// Magic of a transmission request.
pub const REQUEST_MAGIC: u32 = 0x2560_9513;
/// Magic of a simple reply.
pub const SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;

// Handshake flags, sent by the server after NBDMAGIC and IHAVEOPT.

/// The server speaks fixed newstyle negotiation.
pub const FLAG_FIXED_NEWSTYLE: u16 = 1 << 0;
/// The server omits the 124 zero bytes that end NBD_OPT_EXPORT_NAME's reply when the
/// client sets [`FLAG_C_NO_ZEROES`].
pub const FLAG_NO_ZEROES: u16 = 1 << 1;

// Client flags, the client's answer to the handshake flags.

/// The client speaks fixed newstyle negotiation.
pub const FLAG_C_FIXED_NEWSTYLE: u32 = 1 << 0;
/// The client asks the server to omit the 124 zero bytes after NBD_OPT_EXPORT_NAME.
pub const FLAG_C_NO_ZEROES: u32 = 1 << 1;

// Options of the negotiation phase.

/// NBD_OPT_EXPORT_NAME: choose an export and enter transmission (no reply on failure).
pub const OPT_EXPORT_NAME: u32 = 1;
/// NBD_OPT_ABORT: the client ends the negotiation.
pub const OPT_ABORT: u32 = 2;
/// NBD_OPT_LIST: list the exports.
pub const OPT_LIST: u32 = 3;
/// NBD_OPT_INFO: describe an export without entering transmission.
pub const OPT_INFO: u32 = 6;
/// NBD_OPT_GO: describe an export and enter transmission.
pub const OPT_GO: u32 = 7;

// Option reply types.

/// NBD_REP_ACK: the option succeeded (the last reply to it).
pub const REP_ACK: u32 = 1;
/// NBD_REP_SERVER: one export, in the reply to NBD_OPT_LIST.
pub const REP_SERVER: u32 = 2;
/// NBD_REP_INFO: one piece of information about an export (NBD_OPT_INFO, NBD_OPT_GO).
pub const REP_INFO: u32 = 3;
/// NBD_REP_ERR_UNSUP: the option is not supported.
pub const REP_ERR_UNSUP: u32 = (1 << 31) + 1;
/// NBD_REP_ERR_INVALID: the option is malformed.
pub const REP_ERR_INVALID: u32 = (1 << 31) + 3;
/// NBD_REP_ERR_UNKNOWN: no export of that name.
pub const REP_ERR_UNKNOWN: u32 = (1 << 31) + 6;

// Information types of NBD_REP_INFO.

/// NBD_INFO_EXPORT: the export's size in bytes and its transmission flags.
pub const INFO_EXPORT: u16 = 0;
/// NBD_INFO_BLOCK_SIZE: minimum, preferred and maximum block sizes in bytes.
pub const INFO_BLOCK_SIZE: u16 = 3;

// Transmission flags, sent with the export's size.

/// NBD_FLAG_HAS_FLAGS: always set.
pub const FLAG_HAS_FLAGS: u16 = 1 << 0;
/// NBD_FLAG_SEND_FLUSH: the server takes NBD_CMD_FLUSH.
pub const FLAG_SEND_FLUSH: u16 = 1 << 2;
/// NBD_FLAG_SEND_FUA: the server takes NBD_CMD_FLAG_FUA.
pub const FLAG_SEND_FUA: u16 = 1 << 3;
/// NBD_FLAG_SEND_TRIM: the server takes NBD_CMD_TRIM.
pub const FLAG_SEND_TRIM: u16 = 1 << 5;
/// NBD_FLAG_SEND_WRITE_ZEROES: the server takes NBD_CMD_WRITE_ZEROES.
pub const FLAG_SEND_WRITE_ZEROES: u16 = 1 << 6;
/// NBD_FLAG_CAN_MULTI_CONN: several connections to the export see each other's writes
/// once flushed.
pub const FLAG_CAN_MULTI_CONN: u16 = 1 << 8;

// Commands of the transmission phase.

/// NBD_CMD_READ.
pub const CMD_READ: u16 = 0;
/// NBD_CMD_WRITE: the payload follows the request header.
pub const CMD_WRITE: u16 = 1;
/// NBD_CMD_DISC: the client disconnects.
pub const CMD_DISC: u16 = 2;
/// NBD_CMD_FLUSH: make every completed write durable.
pub const CMD_FLUSH: u16 = 3;
/// NBD_CMD_TRIM: the client no longer needs the range (a discard).
pub const CMD_TRIM: u16 = 4;
/// NBD_CMD_WRITE_ZEROES: write zeros to the range, without a payload.
pub const CMD_WRITE_ZEROES: u16 = 6;

// Command flags.

/// NBD_CMD_FLAG_FUA: the write is durable before the reply (Force Unit Access).
pub const CMD_FLAG_FUA: u16 = 1 << 0;
/// NBD_CMD_FLAG_NO_HOLE: NBD_CMD_WRITE_ZEROES must not punch a hole.
pub const CMD_FLAG_NO_HOLE: u16 = 1 << 1;

// Error values of a reply (Linux errno numbers, as the protocol fixes them).

/// Operation not permitted.
pub const EPERM: u32 = 1;
/// Input/output error.
pub const EIO: u32 = 5;
/// Out of memory.
pub const ENOMEM: u32 = 12;
/// Invalid argument: an unknown command or flag, or a read past the end.
pub const EINVAL: u32 = 22;
/// No space left: a write past the end of the export.
pub const ENOSPC: u32 = 28;
/// Value too large.
pub const EOVERFLOW: u32 = 75;
/// The command is not supported.
pub const ENOTSUP: u32 = 95;
/// The server is shutting down.
pub const ESHUTDOWN: u32 = 108;

/// Largest option payload read (names are at most 4096 bytes).
pub const MAX_OPTION_LEN: u32 = 64 * 1024;
