//! Generated data for load tests and large demos: Logora users and w.c.s.
//! users with their forms, French and plausible, from the `fake` crate's
//! French names and real French cities, occupations and topics.
//!
//! Generation is deterministic: the same options give the same items,
//! whatever the number of threads, because items are made in fixed-size
//! chunks, each from its own generator seeded by the seed and the chunk's
//! number.

pub mod french;
pub mod logora;
pub mod wcs;

use std::io::Write;
use std::path::Path;

use fake::rand::SeedableRng;
use fake::rand::rngs::StdRng;
use serde_json::Value;

use crate::config::Generate;
use crate::logora::model::LogoraData;
use crate::store::Problems;
use crate::wcs::model::WcsData;

/// Items per chunk: the unit of parallel work and of seeding.
const CHUNK: usize = 16_384;

/// The generator of chunk `chunk` under `seed`.
fn chunk_rng(seed: u64, stream: u64, chunk: u64) -> StdRng {
    // SplitMix64 of (seed, stream, chunk): neighbouring seeds and chunks get
    // unrelated streams.
    let mut z = seed
        .wrapping_add(stream.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(chunk.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// Makes `count` items, `make(rng, index)` each, on every core, in order.
/// `progress` is told how many items each finished chunk held.
pub fn generate<T: Send>(
    count: usize,
    seed: u64,
    stream: u64,
    make: impl Fn(&mut StdRng, usize) -> T + Sync,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<T> {
    let chunks = count.div_ceil(CHUNK);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(chunks.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<T>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let chunk = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if chunk >= chunks {
                            return mine;
                        }
                        let mut rng = chunk_rng(seed, stream, chunk as u64);
                        let start = chunk * CHUNK;
                        let end = (start + CHUNK).min(count);
                        let items: Vec<T> = (start..end).map(|i| make(&mut rng, i)).collect();
                        progress((end - start) as u64);
                        mine.push((chunk, items));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(chunk, _)| *chunk);
    let mut out = Vec::with_capacity(count);
    for (_, items) in done {
        out.extend(items);
    }
    out
}

/// How many items `generate` makes in all (for the command line's
/// progress bar).
#[cfg(feature = "cli")]
pub fn total(generate: &Generate) -> u64 {
    (generate.logora_users + generate.wcs_users * (1 + generate.forms_per_user)) as u64
}

/// Where generated Logora users go in `files` (fixture format): the first
/// application, ids after `last_id`, the highest one.
fn logora_target(files: &[(&'static str, Value)], last_id: Option<u64>) -> Option<logora::Target> {
    let application = files
        .iter()
        .find(|(f, _)| *f == "logora/applications.json")
        .and_then(|(_, v)| v.as_array())?
        .first()?;
    Some(logora::Target {
        application_id: application["id"].as_u64()?,
        sub_applications: application["sub_applications"]
            .as_array()?
            .iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect(),
        first_id: last_id.unwrap_or(0) + 1,
    })
}

/// The highest user id of a `logora/users.json` in `files`.
fn last_logora_id(files: &[(&'static str, Value)]) -> Option<u64> {
    files
        .iter()
        .find(|(f, _)| *f == "logora/users.json")
        .and_then(|(_, v)| v.as_array())?
        .iter()
        .filter_map(|u| u["id"].as_u64())
        .max()
}

/// Where generated w.c.s. users and forms go in `files`: ids after the
/// highest ones, forms of the enabled form definitions.
fn wcs_target(files: &[(&'static str, Value)]) -> wcs::Target {
    let items = |name: &str| {
        files
            .iter()
            .find(|(f, _)| *f == name)
            .and_then(|(_, v)| v.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let next = |name: &str| {
        items(name)
            .iter()
            .filter_map(|i| i["id"].as_u64())
            .max()
            .unwrap_or(0)
            + 1
    };
    wcs::Target {
        first_user_id: next("wcs/users.json"),
        first_form_id: next("wcs/forms.json"),
        formdefs: items("wcs/formdefs.json")
            .iter()
            .filter(|d| d["disabled"] != Value::Bool(true))
            .filter_map(|d| {
                Some(wcs::FormDef {
                    id: d["id"].as_str()?.to_owned(),
                    statuses: d["statuses"]
                        .as_array()?
                        .iter()
                        .filter_map(|s| s["id"].as_str().map(str::to_owned))
                        .collect(),
                })
            })
            .collect(),
    }
}

/// Generated w.c.s. users and their forms, in the fixture format.
fn wcs_items(
    generate: &Generate,
    files: &[(&'static str, Value)],
    progress: &(dyn Fn(u64) + Sync),
) -> (Vec<Value>, Vec<Value>) {
    let target = wcs_target(files);
    let users = wcs::users(generate.wcs_users, generate.seed, &target, progress);
    let forms = wcs::forms(
        generate.wcs_users,
        generate.forms_per_user,
        generate.seed,
        &target,
        progress,
    );
    (users, forms)
}

/// Writes a fixture directory into `out`: `files` (fixture file name to
/// JSON array: the built-in fixtures, exported) plus the generated items,
/// one item per line so the files stay diffable and the same arguments
/// always give the same bytes.
pub fn write_dir(
    mut files: Vec<(&'static str, Value)>,
    generate: &Generate,
    out: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), String> {
    if generate.logora_users > 0 {
        let target = logora_target(&files, last_logora_id(&files))
            .ok_or("the fixtures have no Logora application")?;
        let users = logora::users(generate.logora_users, generate.seed, &target, progress);
        let users = users
            .iter()
            .map(|u| serde_json::to_value(u).unwrap_or_default())
            .collect();
        append(&mut files, "logora/users.json", users);
    }
    if generate.wcs_users > 0 {
        let (users, forms) = wcs_items(generate, &files, progress);
        append(&mut files, "wcs/users.json", users);
        append(&mut files, "wcs/forms.json", forms);
    }
    for (name, value) in &files {
        let path = out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        write_items(&mut writer, value)
            .and_then(|()| writer.flush())
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn append(files: &mut [(&'static str, Value)], name: &str, items: Vec<Value>) {
    if let Some((_, Value::Array(list))) = files.iter_mut().find(|(f, _)| *f == name) {
        list.extend(items);
    }
}

/// Writes a collection one item per line, so fixture files stay diffable
/// (`fixtures import` writes its files the same way).
pub(crate) fn write_items(out: &mut impl Write, value: &Value) -> std::io::Result<()> {
    let Value::Array(items) = value else {
        serde_json::to_writer_pretty(&mut *out, value)?;
        return writeln!(out);
    };
    out.write_all(b"[")?;
    for (n, item) in items.iter().enumerate() {
        out.write_all(if n == 0 { b"\n  " } else { b",\n  " })?;
        serde_json::to_writer(&mut *out, item)?;
    }
    out.write_all(if items.is_empty() { b"]\n" } else { b"\n]\n" })
}

/// Adds the generated items to the loaded data (served data, on top of the
/// fixtures).
pub fn add_to(
    logora_data: &mut LogoraData,
    wcs_data: &mut WcsData,
    generate: &Generate,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), Problems> {
    if generate.is_empty() {
        return Ok(());
    }
    let mut files = logora_data.export_settings();
    files.extend(wcs_data.export());
    if generate.logora_users > 0 {
        let last_id = logora_data.records().map(|r| r.id).max();
        let Some(target) = logora_target(&files, last_id) else {
            return Err(Problems(vec![crate::store::Problem::file(
                "logora/applications.json",
                "--generate-logora-users needs at least one application",
            )]));
        };
        let started = std::time::Instant::now();
        let records = logora::records(
            logora_data,
            generate.logora_users,
            generate.seed,
            &target,
            progress,
        )?;
        let made = started.elapsed();
        logora_data.add_records(records, &[])?;
        // Start-up time with big data is a feature: say where it went.
        tracing::info!(
            "generated and rendered {} Logora users in {} ms, checked and indexed in {} ms",
            generate.logora_users,
            made.as_millis(),
            (started.elapsed() - made).as_millis()
        );
    }
    if generate.wcs_users > 0 {
        let started = std::time::Instant::now();
        let (users, forms) = wcs_items(generate, &files, progress);
        let users = typed(users, "wcs/users.json")?;
        let forms = typed(forms, "wcs/forms.json")?;
        let made = started.elapsed();
        wcs_data.add_generated(users, forms)?;
        tracing::info!(
            "generated {} w.c.s. users and {} forms in {} ms, checked, rendered and indexed in {} ms",
            generate.wcs_users,
            generate.wcs_users * generate.forms_per_user,
            made.as_millis(),
            (started.elapsed() - made).as_millis()
        );
    }
    Ok(())
}

/// Generated items as the model's types; a failure here is a generator bug,
/// reported like a fixture problem rather than a panic.
fn typed<T: serde::de::DeserializeOwned>(
    items: Vec<Value>,
    file: &str,
) -> Result<Vec<T>, Problems> {
    items
        .into_iter()
        .enumerate()
        .map(|(n, v)| {
            serde_json::from_value(v).map_err(|e| {
                Problems(vec![crate::store::Problem::file(
                    &format!("generated {file}"),
                    format!("item {}: {e}", n + 1),
                )])
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use fake::rand::RngExt;

    use super::*;

    #[test]
    fn generation_is_the_same_whatever_the_chunk_scheduling() {
        let once = generate(40_000, 7, 1, |rng, i| (i, rng.random::<u64>()), &|_| {});
        let again = generate(40_000, 7, 1, |rng, i| (i, rng.random::<u64>()), &|_| {});
        assert_eq!(once.len(), 40_000);
        assert!(once.iter().enumerate().all(|(n, (i, _))| n == *i));
        assert_eq!(once, again);
        let other_seed = generate(10, 8, 1, |rng, _| rng.random::<u64>(), &|_| {});
        assert_ne!(
            other_seed,
            once[..10].iter().map(|(_, v)| *v).collect::<Vec<_>>()
        );
    }
}
