//! The one record format of the store's files: a header line `T n1 n2 ... len\n` (a tag letter, decimal numbers,
//! the last one the body's length in bytes), the body, and `\n`. Text is never escaped: the lengths frame it.
//! A reader stops at the first record that is cut short or malformed, and says where.

/// One record read back.
#[derive(Debug, PartialEq)]
pub struct Record<'a> {
    pub tag: u8,
    /// The header's numbers before the body length.
    pub numbers: Vec<u64>,
    pub body: &'a [u8],
}

/// The longest header line accepted: a few numbers.
const MAX_HEADER: usize = 128;

pub fn encode(tag: u8, numbers: &[u64], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 48);
    out.push(tag);
    for n in numbers.iter().chain(std::iter::once(&(body.len() as u64))) {
        out.extend_from_slice(format!(" {n}").as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out.push(b'\n');
    out
}

/// Every whole record of `bytes`, and the offset of the first byte that is not part of one (None when all were).
pub fn decode(bytes: &[u8]) -> (Vec<Record<'_>>, Option<usize>) {
    let mut records = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match decode_one(&bytes[at..]) {
            Some((record, used)) => {
                records.push(record);
                at += used;
            }
            None => return (records, Some(at)),
        }
    }
    (records, None)
}

fn decode_one(bytes: &[u8]) -> Option<(Record<'_>, usize)> {
    let end = bytes.iter().take(MAX_HEADER).position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&bytes[..end]).ok()?;
    let mut parts = header.split(' ');
    let tag = parts.next().filter(|t| t.len() == 1 && t.as_bytes()[0].is_ascii_alphabetic())?.as_bytes()[0];
    let mut numbers = parts.map(|p| p.parse::<u64>().ok()).collect::<Option<Vec<u64>>>()?;
    let length = usize::try_from(numbers.pop()?).ok()?;
    let start = end + 1;
    let stop = start.checked_add(length)?;
    if bytes.get(stop) != Some(&b'\n') {
        return None;
    }
    Some((Record { tag, numbers, body: &bytes[start..stop] }, stop + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_cut_off() {
        let mut bytes = encode(b'B', &[3], "a\nb é\n".as_bytes());
        bytes.extend(encode(b'E', &[1, 2, 0], b""));
        let whole = bytes.len();
        bytes.extend(encode(b'E', &[7], b"tail"));
        let (records, stop) = decode(&bytes);
        assert_eq!(stop, None);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], Record { tag: b'B', numbers: vec![3], body: "a\nb é\n".as_bytes() });
        assert_eq!(records[1].numbers, vec![1, 2, 0]);
        for cut in whole..bytes.len() {
            let (records, stop) = decode(&bytes[..cut]);
            assert_eq!(records.len(), 2, "cut at {cut}");
            assert_eq!(stop, (cut > whole).then_some(whole));
        }
    }

    #[test]
    fn garbage_stops_the_reader_where_it_starts() {
        let mut bytes = encode(b'V', &[], b"good");
        let good = bytes.len();
        bytes.extend_from_slice(&[0xff, 0x00, b'\n', 1, 2, 3]);
        let (records, stop) = decode(&bytes);
        assert_eq!((records.len(), stop), (1, Some(good)));
        let (records, stop) = decode(b"V 99999999999999999999999\nx\n");
        assert_eq!((records.len(), stop), (0, Some(0)));
    }
}
