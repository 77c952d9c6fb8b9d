//! Allocations per parse of every documented body, held to what they were when the reading
//! machinery was rebuilt (issue 18: "allocations per parse not above today's"). A change that
//! makes a parse allocate more fails here with the body and both counts; one that makes it
//! allocate less is welcome, and lowers the numbers below.
//!
//! The counts are those of a 64-bit target, where `CompactString` keeps up to 24 bytes inline
//! (12 on a 32-bit one, which allocates for every id), as `cargo bench --bench ratios` prints
//! them.
#![cfg(target_pointer_width = "64")]

#[path = "common/counting.rs"]
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// The allocations (a `realloc` counts as one) made by the current thread while `f` runs; what
/// `f` returns is dropped after the count.
fn allocations<R>(f: impl FnOnce() -> R) -> u64 {
    let (result, count, _bytes) = counting::measure(f);
    drop(result);
    count
}

/// Each documented example (its file under `fixtures/`) and the most allocations a parse of it
/// may make.
const V1: &[(&str, u64)] = &[
    ("conversation_read", 1),
    ("conversation_referral", 1),
    ("conversation_start", 3),
    ("delivery_failure", 7),
    ("delivery_success", 4),
    ("link_failure", 3),
    ("link_match", 2),
    ("link_success", 2),
    ("merge_appUser", 2),
    ("message_appMaker_carousel", 9),
    ("message_appMaker_list", 10),
    ("message_appMaker_text_metadata", 8),
    ("message_appUser_image", 5),
    ("message_appUser_location", 8),
    ("message_appUser_text", 5),
    ("message_appUser_text_guide", 6),
    ("payment_success", 8),
    ("postback", 6),
];

/// The same for the v2 examples, under `fixtures/v2/`.
const V2: &[(&str, u64)] = &[
    ("client_add", 3),
    ("client_remove", 5),
    ("client_update", 5),
    ("conversation_create", 4),
    ("conversation_join", 3),
    ("conversation_leave", 3),
    ("conversation_message", 4),
    ("conversation_message_delivery_channel", 4),
    ("conversation_message_delivery_failure", 4),
    ("conversation_message_delivery_user", 5),
    ("conversation_postback", 3),
    ("conversation_read", 3),
    ("conversation_referral", 6),
    ("conversation_remove", 3),
    ("conversation_typing", 3),
    ("switchboard_acceptControl", 3),
    ("switchboard_acceptControl_failure", 5),
    ("switchboard_offerControl", 3),
    ("switchboard_offerControl_failure", 5),
    ("switchboard_passControl", 3),
    ("switchboard_passControl_failure", 5),
    ("switchboard_releaseControl", 3),
    ("user_merge", 3),
    ("user_remove", 3),
    ("user_update", 3),
];

fn fixture(path: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/{path}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The bodies, among `cases`, that `parse` reads with more allocations than allowed, as
/// `name: counted > allowed`.
fn over<R>(cases: &[(&str, u64)], dir: &str, parse: impl Fn(&[u8]) -> R) -> Vec<String> {
    cases
        .iter()
        .filter_map(|&(name, allowed)| {
            let body = fixture(&format!("{dir}{name}"));
            let counted = allocations(|| parse(&body));
            (counted > allowed).then(|| format!("{dir}{name}: {counted} > {allowed}"))
        })
        .collect()
}

#[test]
fn documented_v1_bodies_allocate_no_more_than_before() {
    assert_eq!(
        over(V1, "", |body| smooch_events::parse_event(body)
            .expect("a documented body")),
        Vec::<String>::new()
    );
}

#[test]
fn documented_v2_bodies_allocate_no_more_than_before() {
    assert_eq!(
        over(V2, "v2/", |body| {
            smooch_events::parse_webhook(body).expect("a documented body")
        }),
        Vec::<String>::new()
    );
}

#[test]
fn the_count_sees_an_allocation() {
    // The check above is only as good as the count: a parse that allocates must be seen to.
    assert_eq!(allocations(|| vec![0u8; 100]), 1);
    assert_eq!(allocations(|| 7), 0);
}
