//! Tests of the options' parsers and of the settings built from them.

use super::*;

#[test]
fn the_public_url_defaults_to_the_bound_address() {
    let settings = Settings::new(&Config::default(), "127.0.0.1:4321".parse().unwrap()).unwrap();
    assert_eq!(settings.public_url, "http://127.0.0.1:4321");
}

#[test]
fn a_public_url_loses_its_trailing_slash_and_must_be_http() {
    let addr = "127.0.0.1:1".parse().unwrap();
    let config = Config {
        public_url: Some("https://demo.example.org/".to_owned()),
        ..Config::default()
    };
    assert_eq!(
        Settings::new(&config, addr).unwrap().public_url,
        "https://demo.example.org"
    );
    let config = Config {
        public_url: Some("demo.example.org".to_owned()),
        ..Config::default()
    };
    assert_eq!(
        Settings::new(&config, addr).unwrap_err(),
        "--public-url \"demo.example.org\" must start with http:// or https://"
    );
}

#[cfg(feature = "cli")]
#[test]
fn durations_are_seconds_or_a_number_with_a_unit() {
    use std::time::Duration;
    assert_eq!(parse_duration("3600"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
    assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
    assert!(parse_duration("0").is_err());
    assert!(parse_duration("1w").is_err());
    assert!(parse_duration("h").is_err());
}

#[cfg(feature = "cli")]
#[test]
fn the_defaults_are_the_command_lines() {
    use clap::{CommandFactory, FromArgMatches, Parser};
    #[derive(Debug, Parser)]
    struct Serving {
        #[command(flatten)]
        config: Config,
    }
    let matches = Serving::command()
        .mut_args(|a| a.env(None))
        .try_get_matches_from(["doublure"])
        .unwrap();
    let parsed = Serving::from_arg_matches(&matches).unwrap().config;
    assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
}

#[test]
fn the_journal_defaults_are_the_named_ones() {
    let config = Config::default();
    assert_eq!(
        (config.journal_size, config.journal_bytes),
        (JOURNAL_SIZE, JOURNAL_BYTES)
    );
}

#[cfg(feature = "cli")]
#[test]
fn sizes_are_bytes_or_a_number_with_a_unit() {
    assert_eq!(parse_size("1048576"), Ok(1_048_576));
    assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
    assert_eq!(parse_size("64 MiB"), Ok(64 << 20));
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("2gb"), Ok(2_000_000_000));
    assert_eq!(parse_size("10B"), Ok(10));
    assert_eq!(
        parse_size("1TiB").unwrap_err(),
        "\"1TiB\" is not a size like 1048576, 512KiB, 64MiB or 1GiB"
    );
    assert!(parse_size("0").is_err());
    assert!(parse_size("GiB").is_err());
    assert!(parse_size("99999999999999999999GiB").is_err());
}

#[test]
fn the_control_plane_takes_no_cross_site_origin_unless_listed() {
    let addr = "127.0.0.1:1".parse().unwrap();
    let settings = Settings::new(&Config::default(), addr).unwrap();
    assert_eq!(settings.admin_cors, CorsOrigins::List(Vec::new()));
    let config = Config {
        admin_cors_origin: Some("https://demo.test, http://localhost:3000/".into()),
        ..Config::default()
    };
    assert_eq!(
        Settings::new(&config, addr).unwrap().admin_cors,
        CorsOrigins::List(vec![
            "https://demo.test".into(),
            "http://localhost:3000".into()
        ])
    );
    let config = Config {
        admin_cors_origin: Some("demo.test".into()),
        ..Config::default()
    };
    assert_eq!(
        Settings::new(&config, addr).unwrap_err(),
        "--admin-cors-origin \"demo.test\" is not an origin like https://app.example.org"
    );
}

#[test]
fn cors_origins_are_any_or_a_checked_list() {
    assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
    assert_eq!(
        CorsOrigins::parse("http://a.test, https://b.test/").unwrap(),
        CorsOrigins::List(vec!["http://a.test".into(), "https://b.test".into()])
    );
    assert!(CorsOrigins::parse("a.test").is_err());
}
