//! A backend's request journal: an append-only file of checksummed records,
//! synced before the backend answers, recovered at boot. Written against the
//! `detsim_disk::Storage` traits, so it runs on a real directory unchanged.

use std::io::{self, ErrorKind};

use detsim_disk::{File, OpenOptions, Storage, is_media_error};

/// The journal's file.
pub const JOURNAL_PATH: &str = "/requests.log";

/// Bytes per record: `[length u32][crc32 u32]` then the payload.
const HEADER: u64 = 8;

/// CRC-32 (IEEE), bit by bit: records are small.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// An append-only journal of checksummed records.
#[derive(Debug)]
pub struct Journal<S: Storage> {
    file: S::File,
    end: u64,
    records: u64,
    failed: bool,
}

impl<S: Storage> Journal<S> {
    /// Opens the journal (creating it durably), keeping the longest prefix
    /// of intact records and cutting off the rest (a torn or lost tail).
    ///
    /// # Errors
    ///
    /// The storage's errors, except media errors while scanning, which end
    /// the valid prefix.
    pub async fn open(storage: &S) -> io::Result<Journal<S>> {
        let created = match storage.metadata(JOURNAL_PATH).await {
            Ok(_) => false,
            Err(e) if e.kind() == ErrorKind::NotFound => true,
            Err(e) => return Err(e),
        };
        let file = storage
            .open(JOURNAL_PATH, OpenOptions::read_write().create(true))
            .await?;
        if created {
            file.sync_all().await?;
            storage.sync_dir("/").await?;
        }
        let len = file.len()?;
        let mut bytes = vec![0; usize::try_from(len).expect("a journal fits in memory")];
        let read = match file.read_at(&mut bytes, 0).await {
            Ok(n) => n,
            Err(e) if is_media_error(&e) => 0,
            Err(e) => return Err(e),
        };
        bytes.truncate(read);
        let (mut at, mut records) = (0u64, 0u64);
        while let Some(header) = bytes.get(at as usize..(at + HEADER) as usize) {
            let size = u64::from(u32::from_le_bytes(header[..4].try_into().expect("4 bytes")));
            let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
            let start = (at + HEADER) as usize;
            let Some(payload) = bytes.get(start..start + size as usize) else {
                break;
            };
            if size == 0 || crc32(payload) != crc {
                break;
            }
            at += HEADER + size;
            records += 1;
        }
        if at < len {
            file.set_len(at).await?;
            file.sync_data().await?;
        }
        Ok(Journal {
            file,
            end: at,
            records,
            failed: false,
        })
    }

    /// Appends one record and makes it durable. After a failure the journal
    /// refuses appends (a failed fsync is never retried: restart and recover).
    ///
    /// # Errors
    ///
    /// The storage's write or sync error, or a refusal after an earlier one.
    pub async fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(io::Error::other("the journal failed: restart to recover"));
        }
        assert!(!payload.is_empty(), "a journal record is not empty");
        let mut record = Vec::with_capacity(HEADER as usize + payload.len());
        record.extend((payload.len() as u32).to_le_bytes());
        record.extend(crc32(payload).to_le_bytes());
        record.extend(payload);
        let result = async {
            self.file.write_at(&record, self.end).await?;
            self.file.sync_data().await
        }
        .await;
        match result {
            Ok(()) => {
                self.end += record.len() as u64;
                self.records += 1;
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Records in the journal (recovered plus appended).
    pub fn records(&self) -> u64 {
        self.records
    }
}
