//! The regressions file: seeds that failed, run first next time.

use std::path::Path;

use super::SweepError;
use crate::Seed;

const HEADER: &str = "# detsim regressions: seeds that failed this sweep. They run first, every time;\n# keep this file in version control.\n";

/// Reads the seeds of a regressions file (none if it does not exist).
pub(crate) fn read(path: &Path) -> Result<Vec<Seed>, SweepError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(SweepError::Regressions(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let mut seeds = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut words = content.split_whitespace();
        let word = words.next().unwrap_or(content);
        if words.next().is_some() {
            return Err(SweepError::Regressions(format!(
                "{} line {}: {line:?} has more than one word; a line is one seed, then an optional `# comment`",
                path.display(),
                number + 1
            )));
        }
        let seed = word.parse::<Seed>().map_err(|e| {
            SweepError::Regressions(format!("{} line {}: {e}", path.display(), number + 1))
        })?;
        if !seeds.contains(&seed) {
            seeds.push(seed);
        }
    }
    Ok(seeds)
}

/// Reads the entries of a regressions file with their fork chains (a line
/// `0x2a forks=1.25s:0x9  # why` is a forked run; a plain sweep runs its
/// seed, an exploring one the forked run).
pub(crate) fn read_forked(path: &Path) -> Result<Vec<(Seed, crate::Forks)>, SweepError> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut entries = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        let mut words = content.split_whitespace();
        let Some(seed) = words.next() else { continue };
        let at = |e: String| {
            SweepError::Regressions(format!("{} line {}: {e}", path.display(), number + 1))
        };
        let seed = seed.parse::<Seed>().map_err(|e| at(e.to_string()))?;
        let forks = match words.next().and_then(|w| w.strip_prefix("forks=")) {
            Some(text) => text
                .parse::<crate::Forks>()
                .map_err(|e| at(e.to_string()))?,
            None => crate::Forks::none(),
        };
        if !entries.contains(&(seed, forks.clone())) {
            entries.push((seed, forks));
        }
    }
    Ok(entries)
}

/// Appends a failing run, a seed and its fork chain (once), with a comment saying why.
pub(crate) fn append_forked(
    path: &Path,
    seed: Seed,
    forks: &crate::Forks,
    why: &str,
) -> std::io::Result<()> {
    let known = if forks.is_empty() {
        read(path).map(|seeds| seeds.contains(&seed))
    } else {
        read_forked(path).map(|entries| entries.contains(&(seed, forks.clone())))
    };
    if known.unwrap_or(false) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut text = std::fs::read_to_string(path).unwrap_or_else(|_| HEADER.to_owned());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let why: String = why
        .chars()
        .take(200)
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    let forks = if forks.is_empty() {
        String::new()
    } else {
        format!(" forks={forks}")
    };
    text.push_str(&format!("{seed}{forks}  # {why}\n"));
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_one_seed_and_an_optional_comment() {
        // Proves good lines parse, and a line with extra words or a bad seed is named.
        let dir = std::env::temp_dir().join(format!("detsim-regressions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.txt");
        std::fs::write(&path, "# header\n0x2a  # why\n\n7\n0x2a\n").unwrap();
        assert_eq!(read(&path).unwrap(), [Seed::new(42), Seed::new(7)]);
        for (text, needle) in [
            (
                "0x2a\n0x2a extra # why\n",
                "line 2: \"0x2a extra # why\" has more than one word",
            ),
            ("+5\n", "line 1: invalid seed \"+5\""),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = read(&path).unwrap_err().to_string();
            assert!(error.contains(needle), "{error}");
            assert!(error.contains("r.txt"), "{error}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
