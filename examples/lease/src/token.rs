//! [`TokenStore`]: the fencing-token counter, durable across crashes.

use detsim_disk::{File, OpenOptions, Storage};

use crate::Error;

/// The token file's path.
const PATH: &str = "/fencing-token";

/// The largest fencing token handed out (or about to be), in a 16-byte
/// record: the token and a checksum, both little-endian, written in place
/// and synced before the token is used. A record fits in one sector, so a
/// crash leaves the old record or the new one, never half of each.
pub struct TokenStore<S: Storage> {
    file: S::File,
    last: u64,
}

impl<S: Storage> std::fmt::Debug for TokenStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore")
            .field("last", &self.last)
            .finish()
    }
}

impl<S: Storage> TokenStore<S> {
    /// Opens (or creates) the token file of `storage`.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if it cannot be opened, read or synced;
    /// [`Error::Corrupt`] if it holds something other than a record.
    pub async fn open(storage: &S) -> Result<TokenStore<S>, Error> {
        let file = storage
            .open(PATH, OpenOptions::read_write().create(true))
            .await?;
        // The name is durable only after its directory is synced.
        storage.sync_dir("/").await?;
        let last = match file.len()? {
            // Nothing was ever made durable, so no token was ever handed out.
            0 => 0,
            16 => {
                let mut record = [0u8; 16];
                let read = file.read_at(&mut record, 0).await?;
                decode(&record[..read])?
            }
            len => return Err(Error::Corrupt(format!("{len} bytes, not 16"))),
        };
        Ok(TokenStore { file, last })
    }

    /// The largest token handed out so far (0 for none).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// A token larger than every earlier one, durable when this returns.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] if the write or the sync failed. The token is
    /// then not used, and never reused either: the write may have reached
    /// the disk, so the next call takes the one after it.
    pub async fn next(&mut self) -> Result<u64, Error> {
        let token = self.last + 1;
        self.last = token;
        self.file.write_at(&encode(token), 0).await?;
        self.file.sync_data().await?;
        Ok(token)
    }
}

/// FNV-1a of the token's bytes.
fn checksum(token: u64) -> u64 {
    token
        .to_le_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

fn encode(token: u64) -> [u8; 16] {
    let mut record = [0u8; 16];
    record[..8].copy_from_slice(&token.to_le_bytes());
    record[8..].copy_from_slice(&checksum(token).to_le_bytes());
    record
}

fn decode(record: &[u8]) -> Result<u64, Error> {
    let (Some(token), Some(sum)) = (record.get(..8), record.get(8..16)) else {
        return Err(Error::Corrupt(format!(
            "a short read of {} bytes",
            record.len()
        )));
    };
    let token = u64::from_le_bytes(token.try_into().expect("8 bytes"));
    let sum = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
    if sum != checksum(token) {
        return Err(Error::Corrupt(format!(
            "token {token} with a wrong checksum"
        )));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::{decode, encode};

    #[test]
    fn records_round_trip_and_damage_is_detected() {
        // Proves a record decodes to its token and a flipped bit is refused.
        assert_eq!(decode(&encode(42)).unwrap(), 42);
        let mut damaged = encode(42);
        damaged[0] ^= 1;
        assert!(decode(&damaged).is_err());
        assert!(decode(&damaged[..7]).is_err());
    }
}
