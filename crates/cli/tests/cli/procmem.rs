//! Another process's memory and core-dump settings, seen the way a memory-forensics tool (or an
//! attacker who is root on the host) sees them: the writable mappings listed in
//! `/proc/PID/maps`, read through `/proc/PID/mem`, searched for byte strings.
//!
//! Reading a non-dumpable process's memory needs `CAP_SYS_PTRACE` (root in the test container).
//! Without it [`dump`] fails with a message that says so: a memory test that cannot read the
//! memory must not pass.
//!
//! Whether a process is non-dumpable is not shown in `/proc/PID/status`; [`peer_can_read`] asks
//! the kernel the question the flag answers: may a process of the same user and the same
//! capabilities, without `CAP_SYS_PTRACE`, open its memory? For the capabilities to be the same,
//! the process under test runs under [`NO_PTRACE`] too.
#![allow(dead_code)]

use std::io::{Read, Seek, SeekFrom};
use std::process::Command;

use anyhow::{Context, anyhow, bail, ensure};

/// A wrapper command: the program after it runs without `CAP_SYS_PTRACE` in its bounding set
/// (util-linux `setpriv`). Run both the process under test and [`peer_can_read`]'s probe so.
pub const NO_PTRACE: &[&str] = &["setpriv", "--bounding-set", "-sys_ptrace", "--"];

/// One writable mapping's bytes.
pub struct Region {
    /// Its start address.
    pub start: u64,
    /// `[heap]`, `[stack]`, a file's path, or empty (anonymous).
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// The writable memory of a process at one moment.
pub struct Dump {
    /// The mappings read.
    pub regions: Vec<Region>,
    /// Writable mappings that could not be read (guard pages, device memory).
    pub unreadable: Vec<String>,
}

/// Reads every writable mapping of process `pid` (heap, stacks, anonymous mappings, the data of
/// the binary and its libraries): where a copy of a secret outlives its use.
pub fn dump(pid: u32) -> anyhow::Result<Dump> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .with_context(|| format!("cannot read /proc/{pid}/maps (has the process ended?)"))?;
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).map_err(|e| {
        anyhow!(
            "cannot open /proc/{pid}/mem: {e}. Reading the memory of a non-dumpable process needs \
             CAP_SYS_PTRACE: run this test as root (or with that capability); it cannot check \
             anything without it"
        )
    })?;
    let mut regions = Vec::new();
    let mut unreadable = Vec::new();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        let name = fields.nth(3).unwrap_or_default().to_owned();
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-').context("a maps line without a range")?;
        let start = u64::from_str_radix(start, 16)?;
        let end = u64::from_str_radix(end, 16)?;
        let len = usize::try_from(end - start)?;
        ensure!(len <= 1 << 30, "a writable mapping of {len} bytes in process {pid}: {line}");
        let mut bytes = vec![0u8; len];
        let read = mem.seek(SeekFrom::Start(start)).and_then(|_| mem.read_exact(&mut bytes));
        match read {
            Ok(()) => regions.push(Region { start, name, bytes }),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                bail!("reading process {pid}'s memory was refused ({e}): this test needs CAP_SYS_PTRACE")
            }
            Err(_) => unreadable.push(line.to_owned()),
        }
    }
    let d = Dump { regions, unreadable };
    ensure!(
        d.regions.iter().any(|r| r.name == "[heap]" || r.name.is_empty()) && d.total() > 0,
        "read nothing of process {pid}'s heap; unreadable: {:?}",
        d.unreadable
    );
    Ok(d)
}

impl Dump {
    /// Bytes read.
    pub fn total(&self) -> usize {
        self.regions.iter().map(|r| r.bytes.len()).sum()
    }

    /// Where `needle` occurs: `0xADDRESS (MAPPING)` for each copy.
    pub fn find(&self, needle: &[u8]) -> Vec<String> {
        let finder = memchr::memmem::Finder::new(needle);
        let mut found = Vec::new();
        for r in &self.regions {
            for at in finder.find_iter(&r.bytes) {
                let name = if r.name.is_empty() { "anonymous" } else { r.name.as_str() };
                found.push(format!("{:#x} ({name})", r.start + at as u64));
            }
        }
        found
    }

    /// Every copy of each of `needles` (`(what, bytes)`), as lines `what at 0xADDRESS (MAPPING)`.
    pub fn copies(&self, needles: &[(String, Vec<u8>)]) -> Vec<String> {
        needles
            .iter()
            .flat_map(|(what, n)| self.find(n).into_iter().map(move |at| format!("{what} at {at}")))
            .collect()
    }

    /// The 32-byte windows of the dump that `matches` (a test of a candidate secret key against
    /// its known public key, say) accepts, among those that look random: at most 4 zero bytes,
    /// and some but not all bytes with the high bit set (so no text, no pointers, no small
    /// numbers). Each found once.
    pub fn find_random32(&self, matches: impl Fn(&[u8; 32]) -> bool) -> Vec<[u8; 32]> {
        let mut found: Vec<[u8; 32]> = Vec::new();
        for r in &self.regions {
            let b = &r.bytes;
            if b.len() < 32 {
                continue;
            }
            let mut high = b[..32].iter().filter(|&&x| x >= 0x80).count();
            let mut zeros = b[..32].iter().filter(|&&x| x == 0).count();
            for i in 0..=b.len() - 32 {
                if i > 0 {
                    let (gone, new) = (b[i - 1], b[i + 31]);
                    high = high + usize::from(new >= 0x80) - usize::from(gone >= 0x80);
                    zeros = zeros + usize::from(new == 0) - usize::from(gone == 0);
                }
                if zeros <= 4 && (4..=28).contains(&high) {
                    let w: [u8; 32] = b[i..i + 32].try_into().unwrap_or([0; 32]);
                    if !found.contains(&w) && matches(&w) {
                        found.push(w);
                    }
                }
            }
        }
        found
    }
}

/// The needles for a secret `s`: the whole of it, and every 16-byte piece of it (a copy partly
/// overwritten, or split across buffers, still counts); each named `what`.
pub fn pieces(what: &str, s: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut v = vec![(what.to_owned(), s.to_vec())];
    if s.len() > 16 {
        let mut at = 0;
        while at + 16 <= s.len() {
            v.push((format!("{what} (bytes {at}..{})", at + 16), s[at..at + 16].to_vec()));
            at += 16;
        }
        let tail = s.len() - 16;
        if !tail.is_multiple_of(16) {
            v.push((format!("{what} (bytes {tail}..)"), s[tail..].to_vec()));
        }
    }
    v
}

/// The soft core file size limit of process `pid`, from `/proc/PID/limits` (`unlimited` or a
/// number of bytes).
pub fn core_limit(pid: u32) -> anyhow::Result<String> {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .context("no core file size in /proc/PID/limits")?;
    let soft =
        line.trim_start_matches("Max core file size").split_whitespace().next().context("no soft limit")?;
    Ok(soft.to_owned())
}

/// Whether a process of the same user and capabilities as `pid`, run under [`NO_PTRACE`], may
/// open `/proc/PID/mem`: the kernel refuses exactly when the process is non-dumpable
/// (`prctl(PR_SET_DUMPABLE, 0)`), so `false` means non-dumpable. The process under test must run
/// under [`NO_PTRACE`] as well (a probe with fewer capabilities than its target is refused
/// anyway). An error when the probe cannot say (no `setpriv`, the process gone).
pub fn peer_can_read(pid: u32) -> anyhow::Result<bool> {
    let out = Command::new(NO_PTRACE[0])
        .args(&NO_PTRACE[1..])
        .args(["sh", "-c", r#"exec 3< "/proc/$0/mem""#])
        .arg(pid.to_string())
        .output()
        .map_err(|e| anyhow!("cannot run setpriv (util-linux), which the dumpable check needs: {e}"))?;
    if out.status.success() {
        return Ok(true);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    ensure!(stderr.contains("Permission denied"), "the dumpable probe of process {pid} failed: {stderr}");
    Ok(false)
}
