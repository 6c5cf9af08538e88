//! Fixture files: where they come from (the built-in set compiled into the
//! binary, or a directory), and the checks shared by every collection.
//!
//! A fixture directory holds one JSON array per collection
//! (`logora/users.json`, `wcs/forms.json`, …). Every problem found while
//! loading is collected, not just the first, and each names the file, the
//! item and the field, so a user can fix a directory in one pass.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserializer;
use serde::de::{DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

/// Largest fixture file read: 1 GiB, as `--admin-body-limit`'s default
/// (the state of a million users, which `PUT /__doublure/state` takes, is
/// about 650 MB in all).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// The text of the regular file at `path` (a symlink is followed), if it
/// is at most `limit` bytes. Anything else (a FIFO, which would block the
/// reader until written; a device such as `/dev/zero`, which never ends; a
/// folder) is refused before it is opened, and the read stops past
/// `limit` whatever the file grew to since.
pub fn read_bounded(path: &Path, limit: u64) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "not a regular file ({}): fixtures are read from regular files only",
            kind_of(&meta.file_type())
        ));
    }
    let too_large = || {
        format!(
            "over the {limit} bytes a fixture file may have ({} MiB)",
            limit >> 20
        )
    };
    if meta.len() > limit {
        return Err(format!("{} bytes: {}", meta.len(), too_large()));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map_err(|_| "cannot read: stream did not contain valid UTF-8".to_owned())
}

/// What a file that is not a regular one is, in words.
#[cfg(unix)]
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind_of(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a folder"
    } else {
        "not a file"
    }
}

/// A set of fixture files, keyed by their path relative to the fixture root
/// (`logora/users.json`).
#[derive(Debug, Clone)]
pub struct FixtureFiles {
    /// How file names are shown in messages: the directory as given, or
    /// `<built-in>` for the compiled-in set.
    root: String,
    files: BTreeMap<String, String>,
}

impl FixtureFiles {
    /// Files compiled into the binary, shown as `<built-in>/…`.
    pub fn compiled_in<'a>(files: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Self {
        Self {
            root: "<built-in>".to_owned(),
            files: files
                .into_iter()
                .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
                .collect(),
        }
    }

    /// Files given in memory (used by state import and by tests).
    pub fn from_map(root: impl Into<String>, files: BTreeMap<String, String>) -> Self {
        Self {
            root: root.into(),
            files,
        }
    }

    /// Files given in memory, refusing names that are no known collection
    /// (state import).
    pub fn checked_map(
        root: &str,
        files: BTreeMap<String, String>,
        known: &[&str],
    ) -> Result<Self, Problems> {
        let mut problems = Problems::default();
        for name in files.keys() {
            if !known.contains(&name.as_str()) {
                problems.push(Problem::file(
                    &format!("{root}/{name}"),
                    format!(
                        "unknown fixture file; expected one of: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        problems.into_result(Self::from_map(root, files))
    }

    /// Reads every `*.json` file under `dir/logora/` and `dir/wcs/`. A file
    /// that is not a known collection is reported, so a typo in a file name
    /// does not silently leave a collection empty.
    pub fn read_dir(dir: &Path, known: &[&str]) -> Result<Self, Problems> {
        let root = dir.display().to_string().trim_end_matches('/').to_owned();
        let mut problems = Problems::default();
        let mut files = BTreeMap::new();
        if !dir.is_dir() {
            problems.push(Problem::file(&root, "not a directory"));
            return Err(problems);
        }
        let mut apis: Vec<&str> = known.iter().filter_map(|k| k.split('/').next()).collect();
        apis.dedup();
        for api in apis {
            let sub = dir.join(api);
            let Ok(entries) = std::fs::read_dir(&sub) else {
                continue;
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for path in paths {
                if path.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                let name = format!(
                    "{api}/{}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                );
                let shown = format!("{root}/{name}");
                if !known.contains(&name.as_str()) {
                    let expected: Vec<&str> = known
                        .iter()
                        .copied()
                        .filter(|k| k.starts_with(api))
                        .collect();
                    problems.push(Problem::file(
                        &shown,
                        format!(
                            "unknown fixture file; expected one of: {}",
                            expected.join(", ")
                        ),
                    ));
                    continue;
                }
                match read_bounded(&path, MAX_FILE_BYTES) {
                    Ok(text) => {
                        files.insert(name, text);
                    }
                    Err(why) => problems.push(Problem::file(&shown, why)),
                }
            }
        }
        if files.is_empty() && problems.is_empty() {
            problems.push(Problem::file(
                &root,
                "no fixture files found (expected logora/*.json or wcs/*.json)",
            ));
        }
        problems.into_result(Self { root, files })
    }

    /// How `name` is shown in messages.
    pub fn shown(&self, name: &str) -> String {
        format!("{}/{name}", self.root)
    }

    /// The raw text of one file, if present.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }

    /// Parses the collection `name` into typed items.
    ///
    /// An absent file is an empty collection. Each item that fails to
    /// deserialize is reported with its position, its `id_key` value when it
    /// has one, and the path of the offending field; the others are kept so
    /// that reference checks can still run and report everything at once.
    pub fn collection<T: DeserializeOwned>(
        &self,
        name: &str,
        id_key: &str,
        problems: &mut Problems,
    ) -> Vec<Item<T>> {
        let Some(text) = self.text(name) else {
            return Vec::new();
        };
        let file = self.shown(name);
        // Each item is read straight from its text into `T`: a whole file
        // parsed into `Value`s first (a million users is hundreds of MB of
        // maps) made loading and `fixtures validate` several times slower
        // than writing the same file.
        let raws: Vec<&RawValue> = match serde_json::from_str(text) {
            Ok(raws) => raws,
            Err(_) => {
                let problem = match serde_json::from_str::<IgnoredAny>(text) {
                    Ok(_) => Problem::file(&file, "expected a JSON array of items"),
                    Err(e) => Problem::file(&file, format!("invalid JSON: {e}")),
                };
                problems.push(problem);
                return Vec::new();
            }
        };
        let mut items = Vec::with_capacity(raws.len());
        for (index, raw) in raws.into_iter().enumerate() {
            let at = ItemRef {
                file: file.clone(),
                number: index + 1,
                id: raw_member(raw.get(), id_key),
            };
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
                Ok(data) => items.push(Item { at, data }),
                // Read again as a value, as an item was before: its message
                // then names the field without a position in the item's
                // text, and a repeated key keeps its last value.
                Err(_) => match parse_item(
                    &serde_json::from_str::<Value>(raw.get()).unwrap_or(Value::Null),
                    &at,
                ) {
                    Ok(data) => items.push(Item { at, data }),
                    Err(problem) => problems.push(problem),
                },
            }
        }
        items
    }
}

/// One fixture item as `T`, or the problem naming the field that is wrong.
pub fn parse_item<T: DeserializeOwned>(value: &Value, at: &ItemRef) -> Result<T, Problem> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        at.problem(if path == "." || path.is_empty() {
            inner
        } else {
            format!("field {path}: {inner}")
        })
    })
}

fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `id_text` of the member `key` of the JSON object `text` (the last one,
/// as a parsed value keeps), found by skipping the other members rather
/// than building them; `None` when `text` is no object or lacks it.
fn raw_member(text: &str, key: &str) -> Option<String> {
    /// Deserializes a map key to whether it is `self.0`, without copying it.
    struct KeyIs<'k>(&'k str);

    impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
        type Value = bool;

        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for KeyIs<'_> {
        type Value = bool;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
            Ok(v == self.0)
        }
    }

    /// The member's text, from an object.
    struct Member<'k>(&'k str);

    impl<'de> Visitor<'de> for Member<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while let Some(is_key) = map.next_key_seed(KeyIs(self.0))? {
                if is_key {
                    found = Some(id_text(&map.next_value::<Value>()?));
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }

    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.deserialize_map(Member(key)).ok().flatten()
}

/// A parsed fixture item and where it came from.
#[derive(Debug, Clone)]
pub struct Item<T> {
    pub at: ItemRef,
    pub data: T,
}

/// Where an item stands: its file, its position (counted from 1) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRef {
    pub file: String,
    pub number: usize,
    pub id: Option<String>,
}

impl ItemRef {
    /// A problem with this item; `message` should name the field.
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem {
            file: self.file.clone(),
            item: Some((self.number, self.id.clone())),
            message: message.into(),
        }
    }
}

/// One thing wrong with a fixture set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the fixture directory (`wcs/users.json`).
    pub file: String,
    /// Position (from 1) and id of the item, when the problem is an item's.
    pub item: Option<(usize, Option<String>)>,
    /// What is wrong, naming the field.
    pub message: String,
}

impl Problem {
    /// A problem with a whole file.
    pub(crate) fn file(file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            item: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        match &self.item {
            Some((n, Some(id))) => write!(f, "item {n} (id {id}): ")?,
            Some((n, None)) => write!(f, "item {n}: ")?,
            None => {}
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a fixture set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    pub(crate) fn push(&mut self, problem: Problem) {
        self.0.push(problem);
    }

    /// Whether nothing was found wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was found wrong.
    pub(crate) fn into_result<T>(self, value: T) -> Result<T, Problems> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// Reports every item whose key was already seen in the same collection.
    pub(crate) fn check_unique<T, K: Ord + fmt::Display>(
        &mut self,
        items: &[Item<T>],
        field: &str,
        key: impl Fn(&T) -> K,
    ) {
        let mut seen = std::collections::BTreeMap::new();
        for item in items {
            let k = key(&item.data);
            if let Some(first) = seen.get(&k) {
                self.push(
                    item.at
                        .problem(format!("{field} {k} is already used by item {first}")),
                );
            } else {
                seen.insert(k, item.at.number);
            }
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn only_regular_files_up_to_the_bound_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users.json");
        std::fs::write(&file, "[1, 2]").unwrap();
        assert_eq!(read_bounded(&file, 6), Ok("[1, 2]".to_owned()));
        assert_eq!(
            read_bounded(&file, 5),
            Err("6 bytes: over the 5 bytes a fixture file may have (0 MiB)".to_owned())
        );
        assert_eq!(
            read_bounded(dir.path(), 5),
            Err(
                "not a regular file (a folder): fixtures are read from regular files only"
                    .to_owned()
            )
        );
        std::fs::write(&file, b"[\xff]").unwrap();
        assert_eq!(
            read_bounded(&file, 6),
            Err("cannot read: stream did not contain valid UTF-8".to_owned())
        );
        assert!(
            read_bounded(&dir.path().join("none.json"), 6)
                .unwrap_err()
                .starts_with("cannot read: No such file")
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Thing {
        id: u64,
        #[allow(dead_code)]
        name: String,
    }

    fn files(text: &str) -> FixtureFiles {
        FixtureFiles::from_map(
            "fx",
            [("wcs/things.json".to_owned(), text.to_owned())].into(),
        )
    }

    fn load(text: &str) -> (Vec<Item<Thing>>, Vec<String>) {
        let mut problems = Problems::default();
        let items = files(text).collection::<Thing>("wcs/things.json", "id", &mut problems);
        (items, problems.0.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named_with_its_item_and_id() {
        let (items, problems) = load(r#"[{"id": 1, "name": "a"}, {"id": 7, "name": 3}]"#);
        assert_eq!(items.len(), 1);
        assert_eq!(
            problems,
            [
                "fx/wcs/things.json: item 2 (id 7): field name: invalid type: integer `3`, expected a string"
            ]
        );
    }

    #[test]
    fn an_unknown_field_and_a_missing_field_are_both_reported() {
        let (_, problems) = load(r#"[{"id": 1, "name": "a", "nmae": "b"}, {"id": 2}]"#);
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .starts_with("fx/wcs/things.json: item 1 (id 1): field nmae: unknown field `nmae`"),
            "{}",
            problems[0]
        );
        assert_eq!(
            problems[1],
            "fx/wcs/things.json: item 2 (id 2): missing field `name`"
        );
    }

    #[test]
    fn invalid_json_names_the_file_and_the_line() {
        let (_, problems) = load("[{\"id\": 1,\n oops}]");
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .starts_with("fx/wcs/things.json: invalid JSON: key must be a string at line 2"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn an_items_id_is_read_from_its_text_as_a_parsed_value_shows_it() {
        let cases = [
            (r#"{"id": 7, "name": "a"}"#, Some("7")),
            (r#"{"name": {"id": 1}, "id": "x-1"}"#, Some("x-1")),
            (r#"{"i\u0064": 2.5}"#, Some("2.5")),
            (r#"{"id": 1, "id": [1, 2]}"#, Some("[1,2]")),
            (r#"{"name": "a"}"#, None),
            (r#"[{"id": 1}]"#, None),
            ("3", None),
        ];
        for (text, id) in cases {
            assert_eq!(raw_member(text, "id").as_deref(), id, "{text}");
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_before() {
        let (items, problems) = load(r#"[{"id": 1, "name": "a", "name": "b"}]"#);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items[0].at.id.as_deref(), Some("1"));
    }

    #[test]
    fn a_file_that_is_not_an_array_is_reported() {
        let (_, problems) = load(r#"{"id": 1}"#);
        assert_eq!(
            problems,
            ["fx/wcs/things.json: expected a JSON array of items"]
        );
    }

    #[test]
    fn duplicate_keys_name_the_first_item_using_them() {
        let (items, _) = load(r#"[{"id": 4, "name": "a"}, {"id": 4, "name": "b"}]"#);
        let mut problems = Problems::default();
        problems.check_unique(&items, "id", |t| t.id);
        assert_eq!(
            problems.to_string(),
            "fx/wcs/things.json: item 2 (id 4): id 4 is already used by item 1"
        );
    }
}
