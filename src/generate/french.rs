//! French words for generated data: real cities, occupations and interests
//! (the `fake` crate's French locale has names but English job titles and
//! invented city names), plus the unaccenting that turns a name into an
//! e-mail address or a slug.

/// Real French cities, weighted towards none: each is as likely.
pub const CITIES: &[&str] = &[
    "Paris",
    "Marseille",
    "Lyon",
    "Toulouse",
    "Nice",
    "Nantes",
    "Montpellier",
    "Strasbourg",
    "Bordeaux",
    "Lille",
    "Rennes",
    "Reims",
    "Toulon",
    "Saint-Étienne",
    "Le Havre",
    "Grenoble",
    "Dijon",
    "Angers",
    "Nîmes",
    "Villeurbanne",
    "Clermont-Ferrand",
    "Le Mans",
    "Aix-en-Provence",
    "Brest",
    "Tours",
    "Amiens",
    "Limoges",
    "Annecy",
    "Perpignan",
    "Boulogne-Billancourt",
    "Metz",
    "Besançon",
    "Orléans",
    "Saint-Denis",
    "Argenteuil",
    "Rouen",
    "Mulhouse",
    "Montreuil",
    "Caen",
    "Nancy",
    "Poitiers",
    "Avignon",
    "La Rochelle",
    "Pau",
    "Bayonne",
    "Quimper",
    "Vannes",
    "Chambéry",
    "Colmar",
    "Ajaccio",
    "Bastia",
    "Lorient",
    "Troyes",
    "Valence",
    "Béziers",
    "Cannes",
    "Calais",
    "Niort",
    "Albi",
    "Arles",
];

/// Occupations as a French user would type them.
pub const OCCUPATIONS: &[&str] = &[
    "Jardinier",
    "Médecin",
    "Enseignante",
    "Professeur des écoles",
    "Infirmière",
    "Ingénieur",
    "Architecte",
    "Boulanger",
    "Comptable",
    "Journaliste",
    "Avocate",
    "Pharmacien",
    "Développeuse",
    "Agriculteur",
    "Étudiant",
    "Étudiante",
    "Retraité",
    "Retraitée",
    "Chauffeur routier",
    "Artisan",
    "Électricien",
    "Plombier",
    "Cheffe de projet",
    "Commerçant",
    "Fonctionnaire",
    "Chercheuse",
    "Kinésithérapeute",
    "Vétérinaire",
    "Libraire",
    "Photographe",
    "Graphiste",
    "Cuisinier",
    "Aide-soignante",
    "Sapeur-pompier",
    "Bibliothécaire",
    "Conseillère bancaire",
    "Menuisier",
    "Musicien",
    "Traductrice",
    "Viticulteur",
];

/// Debate topics, combined by two or three into `interests`.
pub const INTERESTS: &[&str] = &[
    "politique",
    "économie",
    "nature",
    "écologie",
    "santé",
    "éducation",
    "culture",
    "sport",
    "international",
    "société",
    "sciences",
    "numérique",
    "justice",
    "transports",
    "logement",
    "agriculture",
    "europe",
    "emploi",
    "énergie",
    "alimentation",
];

/// Short profile descriptions.
pub const DESCRIPTIONS: &[&str] = &[
    "Passionné de débats citoyens.",
    "J'aime confronter les points de vue.",
    "Curieuse de tout, surtout d'écologie.",
    "Lecteur assidu de la presse régionale.",
    "Engagée dans la vie associative de mon quartier.",
    "Toujours prêt à changer d'avis devant un bon argument.",
    "Je découvre le débat en ligne.",
    "Ancien élu municipal.",
];

/// Logora's levels: id and French name.
pub const LEVELS: &[(u32, &str)] = &[
    (1, "Novice du débat"),
    (2, "Apprenti débatteur"),
    (3, "Débatteur confirmé"),
    (4, "Orateur éloquent"),
    (5, "Maître du débat"),
];

/// `text` without accents, lower-cased, every run of other characters
/// turned into `sep`: "Jean-Étienne Lefèvre" gives "jean-etienne-lefevre"
/// with `-`.
pub fn simplify(text: &str, sep: char) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let plain: &str = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' | 'å' => "a",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ÿ' | 'ý' => "y",
            'ñ' => "n",
            'œ' => "oe",
            'æ' => "ae",
            c if c.is_ascii_alphanumeric() => {
                if pending && !out.is_empty() {
                    out.push(sep);
                }
                pending = false;
                out.push(c);
                continue;
            }
            _ => {
                pending = true;
                continue;
            }
        };
        if pending && !out.is_empty() {
            out.push(sep);
        }
        pending = false;
        out.push_str(plain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_drops_accents_and_joins_words() {
        assert_eq!(
            simplify("Jean-Étienne Lefèvre", '-'),
            "jean-etienne-lefevre"
        );
        assert_eq!(simplify("  Zoé  d'Œillet ", '.'), "zoe.d.oeillet");
        assert_eq!(simplify("", '-'), "");
    }
}
