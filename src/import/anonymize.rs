//! `--anonymize`: names, e-mails, phones, addresses and free text replaced
//! with fake French values, deterministically.
//!
//! Each replacement is drawn from a generator seeded by a keyed hash
//! (HMAC-SHA-256) of the original value, the key being derived from the
//! import's secret (the Logora client secret, the w.c.s. key): the same data
//! imported with the same credentials always gives the same bytes, the same
//! value is replaced the same way wherever it appears (an e-mail in a
//! profile and in a form field), and nobody without the secret can test a
//! guess ("is this jean.dupont@…?") against the output. Identifiers, slugs
//! that other files reference, statuses, dates and structure are kept.
//!
//! Which values are personal is read from the field's name and the value
//! itself (see [`Anonymizer::field`]): an e-mail or a phone number anywhere,
//! `prenom`, `nom`, `adresse`, `code_postal`, `ville`, … by name, and any
//! other text of several words as free text.

use std::collections::{HashMap, HashSet};

use fake::Fake;
use fake::faker::address::raw::StreetName;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::FR_FR;
use fake::rand::rngs::StdRng;
use fake::rand::{RngExt, SeedableRng};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::generate::french::{CITIES, OCCUPATIONS, simplify};

/// The domain of every anonymized e-mail address.
pub const EMAIL_DOMAIN: &str = "exemple.fr";

/// Neutral French sentences free text is replaced with.
const FREE_TEXT: &[&str] = &[
    "Merci de me recontacter en fin de journée.",
    "Je reste disponible pour tout complément d'information.",
    "Demande faite pour le compte d'un proche.",
    "Les pièces justificatives suivront par courrier.",
    "Passionné de débats citoyens.",
    "J'aime confronter les points de vue.",
    "Curieuse de tout, surtout d'écologie.",
    "Lecteur assidu de la presse régionale.",
    "Engagée dans la vie associative de mon quartier.",
    "Toujours prêt à changer d'avis devant un bon argument.",
    "Nous avons emménagé au début du mois.",
    "Le rendez-vous peut avoir lieu le matin de préférence.",
    "Je souhaite être informée de la suite donnée à ma demande.",
    "Sans réponse de votre part, je renouvellerai ma demande.",
    "La situation a changé depuis ma dernière démarche.",
    "Document transmis en deux exemplaires.",
];

/// Field-name words that mark each kind of personal value.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "telephone",
    "tel",
    "mobile",
    "portable",
    "fax",
    "gsm",
    "cellulaire",
];
const POSTCODE_WORDS: &[&str] = &["zipcode", "zip", "postcode", "postal", "cp"];
const CITY_WORDS: &[&str] = &["city", "ville", "commune", "localite", "town"];
const STREET_WORDS: &[&str] = &["address", "adresse", "street", "rue", "voie", "addr"];
const FULL_NAME_KEYS: &[&str] = &[
    "name",
    "full_name",
    "fullname",
    "display_name",
    "nom_complet",
    "nom_prenom",
    "prenom_nom",
    "identite",
];
const FIRST_NAME_KEYS: &[&str] = &["first_name", "firstname", "prenom", "given_name"];
const LAST_NAME_WORDS: &[&str] = &["nom", "lastname", "surname", "family", "patronyme"];

/// What a value is, for anonymization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    Phone,
    Postcode,
    City,
    Street,
    FullName,
    FirstName,
    LastName,
    FreeText,
    /// Not personal as far as can be told: kept.
    Keep,
}

/// Whether `text` is an e-mail address (`local@domain`, no spaces).
fn looks_like_email(text: &str) -> bool {
    let mut parts = text.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty()
    ) && !text.chars().any(char::is_whitespace)
}

/// Whether `text` is written like a phone number: 9 to 15 digits with
/// spaces, dots, dashes or brackets, starting with 0 or +.
fn looks_like_phone(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (9..=15).contains(&digits)
        && (text.starts_with('0') || text.starts_with('+'))
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +.-()/".contains(c))
}

/// What the text `text` of the field `key` is.
pub fn kind_of(key: &str, text: &str) -> Kind {
    if text.trim().is_empty() {
        return Kind::Keep;
    }
    if looks_like_email(text.trim()) {
        return Kind::Email;
    }
    let key = simplify(key, '_');
    let words: Vec<&str> = key.split('_').collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    let has_digit = text.chars().any(|c| c.is_ascii_digit());
    if FULL_NAME_KEYS.contains(&key.as_str()) {
        Kind::FullName
    } else if FIRST_NAME_KEYS.contains(&key.as_str()) || has(&["prenom", "firstname"]) {
        Kind::FirstName
    } else if has(LAST_NAME_WORDS) || (has(&["last"]) && has(&["name"])) {
        Kind::LastName
    } else if (has(PHONE_WORDS) && has_digit) || looks_like_phone(text.trim()) {
        Kind::Phone
    } else if (has(POSTCODE_WORDS) || key.contains("code_postal")) && has_digit {
        Kind::Postcode
    } else if has(CITY_WORDS) {
        Kind::City
    } else if has(STREET_WORDS) {
        Kind::Street
    } else if text.trim().contains(char::is_whitespace) && text.chars().any(char::is_alphabetic) {
        Kind::FreeText
    } else {
        Kind::Keep
    }
}

/// `fake` written in the case style of `original`: all capitals stay all
/// capitals ("PARIS"), all lower case stays lower case.
fn styled(original: &str, fake: String) -> String {
    let letters: Vec<char> = original.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        fake.to_uppercase()
    } else if !letters.is_empty() && letters.iter().all(|c| c.is_lowercase()) {
        fake.to_lowercase()
    } else {
        fake
    }
}

/// A name from `fake`'s list as people write it: the list has a few
/// entries in capitals ("LÉON"), which would otherwise stand out.
fn proper(name: String) -> String {
    if !name.chars().any(char::is_lowercase) {
        let mut out = String::with_capacity(name.len());
        let mut start = true;
        for c in name.chars() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = !c.is_alphabetic();
        }
        return out;
    }
    name
}

/// Replaces personal values, the same way for the same value.
#[derive(Debug)]
pub struct Anonymizer {
    key: Vec<u8>,
    /// Original e-mail (lower case) to its replacement: replacements are
    /// kept distinct, so two users never end up sharing an address.
    emails: HashMap<String, String>,
    taken_emails: HashSet<String>,
    /// Simplified name word to its replacement, so an e-mail made of a
    /// name (`jean.dupont@…`) becomes one made of the fake name.
    words: HashMap<String, String>,
    /// Logora slugs given so far, per application.
    slugs: HashSet<(u64, String)>,
}

impl Anonymizer {
    /// An anonymizer keyed by `secret`.
    pub fn new(secret: &str) -> Self {
        let key = Sha256::new()
            .chain_update(b"doublure fixtures import --anonymize\0")
            .chain_update(secret.as_bytes())
            .finalize()
            .to_vec();
        Self {
            key,
            emails: HashMap::new(),
            taken_emails: HashSet::new(),
            words: HashMap::new(),
            slugs: HashSet::new(),
        }
    }

    /// The generator for `value` of kind `kind`.
    fn rng(&self, kind: &str, value: &str) -> StdRng {
        let mut message = kind.as_bytes().to_vec();
        message.push(0);
        message.extend_from_slice(value.as_bytes());
        let digest = crate::wcs::signature::hmac("sha256", &self.key, &message).unwrap_or_default();
        let mut seed = [0u8; 32];
        for (s, d) in seed.iter_mut().zip(digest) {
            *s = d;
        }
        StdRng::from_seed(seed)
    }

    fn remember_words(&mut self, original: &str, fake: &str) {
        let from: Vec<String> = simplify(original, ' ')
            .split(' ')
            .map(str::to_owned)
            .collect();
        let to: Vec<String> = simplify(fake, ' ').split(' ').map(str::to_owned).collect();
        if from.len() == to.len() {
            for (f, t) in from.into_iter().zip(to) {
                if !f.is_empty() {
                    self.words.entry(f).or_insert(t);
                }
            }
        }
    }

    /// A first name for the first name `value`.
    pub fn first_name(&mut self, value: &str) -> String {
        let key = value.trim().to_lowercase();
        let fake: String = FirstName(FR_FR).fake_with_rng(&mut self.rng("first name", &key));
        let fake = styled(value, proper(fake));
        self.remember_words(value, &fake);
        fake
    }

    /// A last name for the last name `value`.
    pub fn last_name(&mut self, value: &str) -> String {
        let key = value.trim().to_lowercase();
        let fake: String = LastName(FR_FR).fake_with_rng(&mut self.rng("last name", &key));
        let fake = styled(value, proper(fake));
        self.remember_words(value, &fake);
        fake
    }

    /// A full name for `value`: its first word as a first name, the rest
    /// as a last name, so a profile's `prenom` and `nom` fields get the
    /// same replacements as the display name made of them.
    pub fn full_name(&mut self, value: &str) -> String {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return value.to_owned();
        }
        if looks_like_email(trimmed) {
            return self.email(trimmed);
        }
        match trimmed.split_once(char::is_whitespace) {
            Some((first, last)) => format!("{} {}", self.first_name(first), self.last_name(last)),
            None => self.first_name(trimmed),
        }
    }

    /// An address at [`EMAIL_DOMAIN`] for the address `value`: made of the
    /// fake name when the original is made of a name already replaced,
    /// else of a name of its own; never the replacement of another address.
    pub fn email(&mut self, value: &str) -> String {
        let key = value.trim().to_lowercase();
        if let Some(done) = self.emails.get(&key) {
            return done.clone();
        }
        let local = key.split('@').next().unwrap_or_default();
        let words: Vec<&str> = local
            .split(['.', '_', '-'])
            .filter(|w| !w.is_empty())
            .collect();
        let from_name: Option<Vec<String>> =
            words.iter().map(|w| self.words.get(*w).cloned()).collect();
        let base = match from_name {
            Some(parts) if !parts.is_empty() => parts.join("."),
            _ => {
                let mut rng = self.rng("email", &key);
                let first: String = FirstName(FR_FR).fake_with_rng(&mut rng);
                let last: String = LastName(FR_FR).fake_with_rng(&mut rng);
                simplify(&format!("{first} {last}"), '.')
            }
        };
        let mut candidate = format!("{base}@{EMAIL_DOMAIN}");
        let mut n = 2;
        while self.taken_emails.contains(&candidate) {
            candidate = format!("{base}{n}@{EMAIL_DOMAIN}");
            n += 1;
        }
        self.taken_emails.insert(candidate.clone());
        self.emails.insert(key, candidate.clone());
        candidate
    }

    /// A phone number written like `value`: separators and the prefix
    /// (`0` and the kind of line, or `+33` and the next digit) kept, the
    /// other digits replaced.
    pub fn phone(&self, value: &str) -> String {
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        let mut rng = self.rng("phone", &digits);
        let kept = if value.trim_start().starts_with('+') {
            3
        } else if value.trim_start().starts_with("00") {
            5
        } else {
            2
        };
        let mut seen = 0;
        value
            .chars()
            .map(|c| {
                if !c.is_ascii_digit() {
                    return c;
                }
                seen += 1;
                if seen <= kept {
                    c
                } else {
                    char::from(b'0' + rng.random_range(0..10u8))
                }
            })
            .collect()
    }

    /// A postcode in the same département: the first two digits kept.
    pub fn postcode(&self, value: &str) -> String {
        let mut rng = self.rng("postcode", value.trim());
        let mut seen = 0;
        value
            .chars()
            .map(|c| {
                if !c.is_ascii_digit() {
                    return c;
                }
                seen += 1;
                if seen <= 2 {
                    c
                } else {
                    char::from(b'0' + rng.random_range(0..10u8))
                }
            })
            .collect()
    }

    /// A real French city.
    pub fn city(&self, value: &str) -> String {
        let mut rng = self.rng("city", &value.trim().to_lowercase());
        styled(value, CITIES[rng.random_range(0..CITIES.len())].to_owned())
    }

    /// A street address: a number when the original has one, then a
    /// street.
    pub fn street(&self, value: &str) -> String {
        let mut rng = self.rng("street", &value.trim().to_lowercase());
        let street: String = StreetName(FR_FR).fake_with_rng(&mut rng);
        // "Rue Dupont" is written "rue Dupont" after a number, as French
        // addresses are.
        let street = match street.split_once(' ') {
            Some((kind, name)) => format!("{} {name}", kind.to_lowercase()),
            None => street,
        };
        let fake = if value.chars().any(|c| c.is_ascii_digit()) {
            format!("{} {street}", rng.random_range(1..150u32))
        } else {
            street
        };
        styled(value, fake)
    }

    /// An occupation.
    pub fn occupation(&self, value: &str) -> String {
        let mut rng = self.rng("occupation", &value.trim().to_lowercase());
        OCCUPATIONS[rng.random_range(0..OCCUPATIONS.len())].to_owned()
    }

    /// One to three neutral French sentences, about as long as `value`.
    pub fn free_text(&self, value: &str) -> String {
        let mut rng = self.rng("text", value);
        let count = 1 + usize::from(value.len() > 80) + usize::from(value.len() > 200);
        (0..count)
            .map(|_| FREE_TEXT[rng.random_range(0..FREE_TEXT.len())])
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The replacement of the text `text` of kind `kind`.
    pub fn text(&mut self, kind: Kind, text: &str) -> String {
        match kind {
            Kind::Email => self.email(text),
            Kind::Phone => self.phone(text),
            Kind::Postcode => self.postcode(text),
            Kind::City => self.city(text),
            Kind::Street => self.street(text),
            Kind::FullName => self.full_name(text),
            Kind::FirstName => self.first_name(text),
            Kind::LastName => self.last_name(text),
            Kind::FreeText => self.free_text(text),
            Kind::Keep => text.to_owned(),
        }
    }

    /// Anonymizes the value of the field `key` in place, judging each text
    /// by [`kind_of`]; lists and objects are walked (an object's `text`,
    /// `value` or `label` is judged by the field's name, its `id` kept).
    pub fn field(&mut self, key: &str, value: &mut Value) {
        match value {
            Value::String(text) => {
                let kind = kind_of(key, text);
                *text = self.text(kind, text);
            }
            Value::Array(items) => {
                for item in items {
                    self.field(key, item);
                }
            }
            Value::Object(object) => {
                for (child, item) in object.iter_mut() {
                    match child.as_str() {
                        "id" => {}
                        "text" | "value" | "label" | "display" | "display_value" => {
                            self.field(key, item)
                        }
                        _ => self.field(child, item),
                    }
                }
            }
            _ => {}
        }
    }

    /// Anonymizes every value of a `fields` object.
    pub fn fields(&mut self, fields: &mut Map<String, Value>) {
        for (key, value) in fields.iter_mut() {
            self.field(key, value);
        }
    }

    /// A Logora user in the fixture format: names, e-mail, avatar,
    /// description, city and occupation replaced, the slug made from the
    /// new name (unique in the application); ids, counts, dates, level and
    /// interests kept. A user Logora already anonymized keeps its name.
    pub fn logora_user(&mut self, user: &mut Map<String, Value>) {
        let already = user.get("uid").is_some_and(Value::is_null)
            && user.get("full_name").and_then(Value::as_str)
                == Some(crate::logora::model::ANONYMOUS_NAME);
        fn replace(user: &mut Map<String, Value>, key: &str, with: &mut dyn FnMut(&str) -> String) {
            if let Some(Value::String(text)) = user.get_mut(key)
                && !text.is_empty()
            {
                *text = with(text);
            }
        }
        if !already {
            replace(user, "full_name", &mut |t| self.full_name(t));
        }
        replace(user, "first_name", &mut |t| self.first_name(t));
        replace(user, "last_name", &mut |t| self.last_name(t));
        replace(user, "email", &mut |t| self.email(t));
        replace(user, "uid", &mut |t| {
            if looks_like_email(t) {
                self.email(t)
            } else {
                t.to_owned()
            }
        });
        replace(user, "description", &mut |t| self.free_text(t));
        replace(user, "city", &mut |t| self.city(t));
        replace(user, "occupation", &mut |t| self.occupation(t));
        if let Some(image) = user.get_mut("image_url") {
            *image = Value::Null;
        }
        let application = user
            .get("application_id")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let name = user
            .get("full_name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut base = simplify(name, '-');
        if base.is_empty() {
            base = "utilisateur".to_owned();
        }
        let mut slug = base.clone();
        let mut n = 2;
        while self.slugs.contains(&(application, slug.clone())) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        self.slugs.insert((application, slug.clone()));
        if user.contains_key("slug") {
            user.insert("slug".to_owned(), Value::String(slug));
        }
    }

    /// A w.c.s. user in the fixture format: name, e-mail and profile
    /// fields; ids and name identifiers (references) kept.
    pub fn wcs_user(&mut self, user: &mut Map<String, Value>) {
        if let Some(Value::String(name)) = user.get_mut("name") {
            *name = self.full_name(name);
        }
        if let Some(Value::String(email)) = user.get_mut("email") {
            *email = self.email(email);
        }
        if let Some(Value::Object(fields)) = user.get_mut("fields") {
            self.fields(fields);
        }
    }

    /// A w.c.s. role: its e-mails and details; its name and slug kept.
    pub fn wcs_role(&mut self, role: &mut Map<String, Value>) {
        if let Some(Value::Array(emails)) = role.get_mut("emails") {
            for email in emails {
                if let Value::String(text) = email {
                    *text = self.email(text);
                }
            }
        }
        if let Some(Value::String(details)) = role.get_mut("details")
            && !details.is_empty()
        {
            *details = self.free_text(details);
        }
    }

    /// A w.c.s. form: its fields and digest; ids, statuses, dates,
    /// keywords and tracking code kept.
    pub fn wcs_form(&mut self, form: &mut Map<String, Value>) {
        if let Some(Value::Object(fields)) = form.get_mut("fields") {
            self.fields(fields);
        }
        if let Some(Value::String(digest)) = form.get_mut("digest")
            && !digest.is_empty()
        {
            *digest = self.free_text(digest);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_judged_by_their_field_name_and_their_text() {
        let cases = [
            ("courriel", "foo@localhost", Kind::Email),
            ("contact", "jean.dupont@example.org", Kind::Email),
            ("phone", "0505050505", Kind::Phone),
            ("numero", "+33 6 12 34 56 78", Kind::Phone),
            ("mobile", "non", Kind::Keep),
            ("zipcode", "75014", Kind::Postcode),
            ("code_postal", "75014", Kind::Postcode),
            ("city", "PARIS", Kind::City),
            ("adresse", "rue du Chateau", Kind::Street),
            ("prenom", "Léa", Kind::FirstName),
            ("first_name", "Léa", Kind::FirstName),
            ("nom", "Dupont", Kind::LastName),
            ("nom_usage", "Dupont", Kind::LastName),
            ("last_name", "Dupont", Kind::LastName),
            ("name", "Jean Dupont", Kind::FullName),
            ("commentaire", "Merci de rappeler demain", Kind::FreeText),
            ("classe", "CM1", Kind::Keep),
            ("date", "2020-01-15", Kind::Keep),
            ("montant", "12,50", Kind::Keep),
        ];
        for (key, text, kind) in cases {
            assert_eq!(kind_of(key, text), kind, "{key}: {text}");
        }
    }

    #[test]
    fn the_same_value_and_secret_always_give_the_same_replacement() {
        let mut one = Anonymizer::new("secret");
        let mut two = Anonymizer::new("secret");
        let mut other = Anonymizer::new("another secret");
        for (kind, text) in [
            (Kind::FullName, "Jean Dupont"),
            (Kind::Email, "jean@example.org"),
            (Kind::Phone, "0505050505"),
            (Kind::Street, "12 rue des Lilas"),
            (Kind::FreeText, "Merci de rappeler demain"),
        ] {
            let a = one.text(kind, text);
            assert_eq!(a, two.text(kind, text), "{text}");
            assert_ne!(a, text);
            assert_ne!(a, other.text(kind, text), "{text}");
        }
    }

    #[test]
    fn a_phone_keeps_its_layout_and_line_kind_and_a_postcode_its_departement() {
        let a = Anonymizer::new("k");
        let phone = a.phone("06 11 22 33 44");
        assert!(phone.starts_with("06 "), "{phone}");
        assert_eq!(phone.len(), "06 11 22 33 44".len());
        assert_ne!(phone, "06 11 22 33 44");
        assert!(a.phone("+33 6 12 34 56 78").starts_with("+33 6 "));
        let postcode = a.postcode("75014");
        assert!(
            postcode.starts_with("75") && postcode.len() == 5,
            "{postcode}"
        );
    }

    #[test]
    fn an_email_made_of_a_name_follows_the_names_replacement() {
        let mut a = Anonymizer::new("k");
        let name = a.full_name("Jean Dupont");
        let email = a.email("Jean.Dupont@Example.org");
        assert_eq!(email, format!("{}@exemple.fr", simplify(&name, '.')));
        assert_eq!(
            a.email("jean.dupont@example.org"),
            email,
            "case does not matter"
        );
    }

    #[test]
    fn two_addresses_never_get_the_same_replacement() {
        let mut a = Anonymizer::new("k");
        a.full_name("Jean Dupont");
        let one = a.email("jean.dupont@a.example");
        let two = a.email("jean.dupont@b.example");
        assert_ne!(one, two);
        assert!(two.ends_with("2@exemple.fr"), "{two}");
    }

    #[test]
    fn names_in_capitals_in_the_fake_list_are_written_as_names() {
        assert_eq!(proper("LÉON".to_owned()), "Léon");
        assert_eq!(proper("JEAN-LUC".to_owned()), "Jean-Luc");
        assert_eq!(proper("Le Roux".to_owned()), "Le Roux");
    }

    #[test]
    fn capitals_stay_capitals() {
        let a = Anonymizer::new("k");
        let city = a.city("PARIS");
        assert_eq!(city, city.to_uppercase());
    }

    #[test]
    fn a_logora_user_loses_what_names_them_and_keeps_its_references() {
        let mut a = Anonymizer::new("k");
        let mut user = json!({
            "id": 21, "uid": "ext-21", "image_url": "https://cdn/x.jpg", "full_name": "Jean Dupont",
            "slug": "jean-dupont", "description": "Ancien maire", "email": "jean.dupont@example.org",
            "city": "Lyon", "occupation": "Maire", "interests": "nature", "application_id": 1
        });
        let map = user.as_object_mut().unwrap();
        a.logora_user(map);
        assert_eq!(map["id"], 21);
        assert_eq!(map["uid"], "ext-21");
        assert_eq!(map["interests"], "nature");
        assert_eq!(map["image_url"], Value::Null);
        let name = map["full_name"].as_str().unwrap().to_owned();
        assert_ne!(name, "Jean Dupont");
        assert_eq!(map["slug"], simplify(&name, '-'));
        assert_eq!(map["email"], format!("{}@exemple.fr", simplify(&name, '.')));
        let mut twin = json!({"id": 22, "full_name": "Jean Dupont", "slug": "jean-dupont-2", "application_id": 1});
        let twin = twin.as_object_mut().unwrap();
        a.logora_user(twin);
        assert_eq!(twin["slug"], format!("{}-2", simplify(&name, '-')));
    }
}
