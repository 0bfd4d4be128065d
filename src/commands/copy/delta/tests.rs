use super::*;

const HEADER: DeltaHeader = DeltaHeader {
    block_size: 8,
    source_length: 1 << 20,
    since: 3,
    until: 7,
};

fn stream(extents: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut w = DeltaWriter::new(Vec::new(), &HEADER).unwrap();
    for (off, data) in extents {
        w.extent(*off, data).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, DeltaError> {
    let mut r = DeltaReader::new(bytes)?;
    assert_eq!(*r.header(), HEADER);
    let mut v = Vec::new();
    while let Some(rec) = r.next_record()? {
        if let Record::Extent { offset, data } = rec {
            v.push((offset, data.to_vec()));
        }
    }
    Ok(v)
}

#[test]
fn a_stream_reads_back_as_written() {
    let ext = vec![
        (0, vec![1u8; 4096]),
        (8192, vec![2u8; 12288]),
        (1 << 19, vec![3u8; 7]),
    ];
    assert_eq!(read_all(&stream(&ext)).unwrap(), ext);
    assert_eq!(read_all(&stream(&[])).unwrap(), vec![]);
}

#[test]
fn every_truncation_is_refused() {
    let bytes = stream(&[(0, vec![1u8; 5000]), (8192, vec![2u8; 100])]);
    for cut in 0..bytes.len() {
        let err = read_all(&bytes[..cut]).unwrap_err();
        assert!(
            matches!(err, DeltaError::Truncated { .. }),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn every_bit_flip_is_refused() {
    let bytes = stream(&[(0, vec![1u8; 300]), (8192, vec![2u8; 100])]);
    for i in 0..bytes.len() {
        for bit in [0, 5] {
            let mut b = bytes.clone();
            b[i] ^= 1 << bit;
            assert!(
                read_all(&b).is_err(),
                "flip of bit {bit} of byte {i} passed"
            );
        }
    }
}

#[test]
fn a_damaged_extent_is_named() {
    let mut bytes = stream(&[(0, vec![1u8; 300]), (8192, vec![2u8; 100])]);
    let second_data = HEADER_BYTES + RECORD_BYTES + 300 + RECORD_BYTES + 10;
    bytes[second_data] ^= 1;
    let err = read_all(&bytes).unwrap_err().to_string();
    assert!(err.contains("extent 1 (bytes 8192..8292)"), "{err}");
}

#[test]
fn another_version_is_refused_by_name() {
    let mut bytes = stream(&[]);
    bytes[8] = 2;
    let crc = crc32c::crc32c(&bytes[..HEADER_BYTES - 4]);
    bytes[HEADER_BYTES - 4..HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());
    let err = read_all(&bytes).unwrap_err();
    assert!(matches!(err, DeltaError::Version { found: 2 }), "{err}");
}

#[test]
fn long_data_is_split_into_bounded_extents() {
    let data = vec![9u8; (MAX_EXTENT_BYTES as usize) + 4096];
    let mut w = DeltaWriter::new(
        Vec::new(),
        &DeltaHeader {
            source_length: 64 << 20,
            ..HEADER
        },
    )
    .unwrap();
    w.extent(4096, &data).unwrap();
    let bytes = w.finish().unwrap();
    let mut r = DeltaReader::new(&bytes[..]).unwrap();
    let mut got = Vec::new();
    while let Some(Record::Extent { offset, data }) = r.next_record().unwrap() {
        got.push((offset, data.len() as u64));
    }
    assert_eq!(
        got,
        vec![(4096, MAX_EXTENT_BYTES), (4096 + MAX_EXTENT_BYTES, 4096)]
    );
}
