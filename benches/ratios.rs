//! Ratio benchmark: what the crate costs next to other ways of reading the same bytes.
//!
//! Four strategies parse the same bytes: `floor` (`serde::de::IgnoredAny`: reading the JSON and
//! building nothing), `value` (`serde_json::Value`), `naive` (a plain `#[serde(tag = "trigger")]`
//! model of the same v1 fields, in [`naive`]) and `crate` (`smooch_events::parse_event` for v1
//! bodies, `parse_webhook` for v2 ones).
//!
//! The cases: every documented example, v1 and v2, compact (as Smooch sends them), pretty (as
//! the docs print them) and with the keys of every object sorted (as a relay in Go or Python
//! re-encodes them; compared with the compact body as sent); a 5 KB `conversation:start` with
//! many properties and clients; `trigger` last; unknown keys everywhere. Ratios move from one CPU
//! to another: the output names the CPU it ran on.
//!
//! Method: the strategies run interleaved in one process. Each round visits every case and runs
//! every strategy on it for one batch of about 1 ms (the order of the strategies rotates from
//! round to round), so a slow phase of a shared, noisy machine hits all of them alike. Per case
//! and strategy the bench keeps the median and the minimum of the per-batch time of one parse
//! (the result is dropped inside the batch, so freeing it is counted); ratios are ratios of
//! medians. Nothing is asserted: each target is printed as met or not met, with its worst case.
//! A counting global allocator gives the allocations and bytes of one parse.
//!
//! `cargo bench --bench ratios` prints a table, one line per target, then one JSON line starting
//! with `{"bench":"ratios"` that holds every number. `RATIOS_QUICK=1` runs a few short rounds (a
//! smoke test; its numbers mean little).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use serde::Serialize;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

#[path = "../tests/common/counting.rs"]
mod counting;

/// The baseline an average crate would ship: a plain `#[derive(Deserialize)]`, internally tagged
/// model of the fields `smooch_events` models for the documented triggers, with chrono's default
/// serde for ISO-8601 strings, `f64` for Unix seconds, `String` for vendor strings and `Option`
/// wherever the crate has one. Unknown keys are ignored (serde's default).
#[allow(dead_code)] // the fields are there to be parsed, not read
mod naive {
    use chrono::{DateTime, Utc};
    use serde::Deserialize;
    use serde_json::{Map, Value};

    #[derive(Deserialize)]
    #[serde(tag = "trigger")]
    #[allow(clippy::large_enum_variant)] // as an average crate ships it: no boxes
    pub(crate) enum Event {
        #[serde(rename = "conversation:read")]
        ConversationRead(ConversationRead),
        #[serde(rename = "conversation:start")]
        ConversationStart(ConversationStart),
        #[serde(rename = "conversation:referral")]
        ConversationReferral(ConversationReferral),
        #[serde(rename = "message:appUser")]
        MessageAppUser(MessageEvent),
        #[serde(rename = "message:appMaker")]
        MessageAppMaker(MessageEvent),
        #[serde(rename = "postback")]
        Postback(PostbackEvent),
        #[serde(rename = "merge:appUser")]
        MergeAppUser(MergeAppUser),
        #[serde(rename = "delivery:success")]
        DeliverySuccess(DeliveryEvent),
        #[serde(rename = "delivery:failure")]
        DeliveryFailure(DeliveryEvent),
        #[serde(rename = "payment:success")]
        PaymentSuccess(PaymentSuccess),
        #[serde(rename = "link:success")]
        LinkSuccess(LinkEvent),
        #[serde(rename = "link:match")]
        LinkMatch(LinkEvent),
        #[serde(rename = "link:failure")]
        LinkFailure(LinkEvent),
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ConversationRead {
        app: Option<App>,
        timestamp: Option<f64>,
        app_user: AppUser,
        source: Option<Source>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ConversationStart {
        app: Option<App>,
        timestamp: Option<f64>,
        app_user: AppUser,
        source: Option<Source>,
        referral: Option<Referral>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ConversationReferral {
        app: Option<App>,
        timestamp: Option<f64>,
        app_user: AppUser,
        referral: Referral,
        source: Option<Source>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct MessageEvent {
        app: Option<App>,
        timestamp: Option<f64>,
        messages: Vec<Message>,
        app_user: AppUser,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct PostbackEvent {
        app: Option<App>,
        timestamp: Option<f64>,
        postbacks: Vec<Postback>,
        app_user: AppUser,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct MergeAppUser {
        app: Option<App>,
        timestamp: Option<f64>,
        surviving: AppUser,
        discarded: Vec<AppUser>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct DeliveryEvent {
        app: Option<App>,
        timestamp: Option<f64>,
        destination: Option<Source>,
        messages: Vec<Message>,
        app_user: AppUser,
        error: Option<ChannelError>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct PaymentSuccess {
        app: Option<App>,
        timestamp: Option<f64>,
        payments: Vec<Payment>,
        app_user: AppUser,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct LinkEvent {
        app: Option<App>,
        timestamp: Option<f64>,
        app_user: AppUser,
        channel: Option<String>,
        criteria: Option<Map<String, Value>>,
        error: Option<ChannelError>,
    }

    #[derive(Deserialize)]
    pub(crate) struct App {
        #[serde(rename = "_id")]
        id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct AppUser {
        #[serde(rename = "_id")]
        id: String,
        user_id: Option<String>,
        properties: Option<Map<String, Value>>,
        signed_up_at: Option<DateTime<Utc>>,
        clients: Option<Vec<Client>>,
        pending_clients: Option<Vec<Client>>,
        devices: Option<Vec<Client>>,
        conversation_started: Option<bool>,
        credential_required: Option<bool>,
        email: Option<String>,
        given_name: Option<String>,
        surname: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Client {
        platform: String,
        id: Option<String>,
        active: Option<bool>,
        last_seen: Option<DateTime<Utc>>,
        primary: Option<bool>,
        display_name: Option<String>,
        avatar_url: Option<String>,
        info: Option<Map<String, Value>>,
        raw: Option<Map<String, Value>>,
        app_version: Option<String>,
        linked_at: Option<DateTime<Utc>>,
        push_notification_token: Option<String>,
        integration_id: Option<String>,
        external_id: Option<String>,
        status: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Source {
        #[serde(rename = "type")]
        kind: String,
        id: Option<String>,
        integration_id: Option<String>,
        integration_type: Option<String>,
        original_message_id: Option<String>,
        original_message_timestamp: Option<Value>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Referral {
        code: String,
        details: Option<ReferralDetails>,
    }

    #[derive(Deserialize)]
    pub(crate) struct ReferralDetails {
        source: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(rename = "adId")]
        ad_id_camel: Option<String>,
        #[serde(rename = "ad_id")]
        ad_id_snake: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Message {
        #[serde(rename = "_id")]
        id: String,
        #[serde(rename = "type")]
        kind: Option<String>,
        text: Option<String>,
        role: Option<String>,
        author_id: Option<String>,
        name: Option<String>,
        received: Option<f64>,
        source: Option<Source>,
        avatar_url: Option<String>,
        actions: Option<Vec<Action>>,
        media_url: Option<String>,
        media_type: Option<String>,
        media_size: Option<u64>,
        coordinates: Option<Coordinates>,
        items: Option<Vec<MessageItem>>,
        metadata: Option<Map<String, Value>>,
        payload: Option<String>,
        display_settings: Option<DisplaySettings>,
        destination: Option<Value>,
        quoted_message: Option<Value>,
        fields: Option<Vec<FormField>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct Action {
        #[serde(rename = "type")]
        kind: String,
        #[serde(rename = "_id")]
        id: Option<String>,
        text: Option<String>,
        uri: Option<String>,
        payload: Option<String>,
        amount: Option<u64>,
        currency: Option<String>,
        state: Option<String>,
        default: Option<bool>,
        metadata: Option<Map<String, Value>>,
        extra_channel_options: Option<Map<String, Value>>,
        icon_url: Option<String>,
        size: Option<String>,
        fallback: Option<String>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Coordinates {
        lat: f64,
        long: f64,
        #[serde(rename = "_id")]
        id: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct MessageItem {
        title: String,
        #[serde(rename = "_id")]
        id: Option<String>,
        description: Option<String>,
        media_url: Option<String>,
        media_type: Option<String>,
        size: Option<String>,
        actions: Option<Vec<Action>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct DisplaySettings {
        image_aspect_ratio: Option<String>,
    }

    #[derive(Deserialize)]
    pub(crate) struct FormField {
        #[serde(rename = "type")]
        kind: Option<String>,
        name: Option<String>,
        label: Option<String>,
        text: Option<String>,
        email: Option<String>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Postback {
        action: Action,
        message: Option<Message>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Payment {
        action: Action,
        charge: Charge,
        source: Option<Source>,
        message: Option<Message>,
    }

    #[derive(Deserialize)]
    pub(crate) struct Charge {
        id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(crate) struct ChannelError {
        code: String,
        message: Option<String>,
        underlying_error: Option<Value>,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Floor,
    Crate,
    Value,
    Naive,
}

const STRATEGIES: [Strategy; 4] = [Strategy::Floor, Strategy::Crate, Strategy::Value, Strategy::Naive];

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Floor => "floor",
            Strategy::Crate => "crate",
            Strategy::Value => "value",
            Strategy::Naive => "naive",
        }
    }

    /// Whether the strategy reads the case: the naive model has no v2 counterpart.
    fn reads(self, case: &Case) -> bool {
        !(self == Strategy::Naive && case.is_v2())
    }

    /// Parses `bytes` once, saying why when it fails.
    fn check(self, bytes: &[u8], v2: bool) -> Result<(), String> {
        match self {
            Strategy::Floor => serde_json::from_slice::<IgnoredAny>(bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
            Strategy::Crate if v2 => smooch_events::parse_webhook(bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
            Strategy::Crate => smooch_events::parse_event(bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
            Strategy::Value => serde_json::from_slice::<serde_json::Value>(bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
            Strategy::Naive => serde_json::from_slice::<naive::Event>(bytes)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    /// Parses `bytes` `iters` times (each result dropped at once) and returns the time taken.
    fn batch(self, bytes: &[u8], iters: u64, v2: bool) -> Duration {
        let start = Instant::now();
        match self {
            Strategy::Floor => {
                for _ in 0..iters {
                    let _ = black_box(serde_json::from_slice::<IgnoredAny>(black_box(bytes)));
                }
            }
            Strategy::Crate if v2 => {
                for _ in 0..iters {
                    let _ = black_box(smooch_events::parse_webhook(black_box(bytes)));
                }
            }
            Strategy::Crate => {
                for _ in 0..iters {
                    let _ = black_box(smooch_events::parse_event(black_box(bytes)));
                }
            }
            Strategy::Value => {
                for _ in 0..iters {
                    let _ = black_box(serde_json::from_slice::<serde_json::Value>(black_box(bytes)));
                }
            }
            Strategy::Naive => {
                for _ in 0..iters {
                    let _ = black_box(serde_json::from_slice::<naive::Event>(black_box(bytes)));
                }
            }
        }
        start.elapsed()
    }

    /// The allocations and bytes of one parse (the drop of the result is not counted).
    fn allocs(self, bytes: &[u8], v2: bool) -> Allocs {
        let (count, bytes) = match self {
            Strategy::Floor => {
                let (r, c, b) = counting::measure(|| serde_json::from_slice::<IgnoredAny>(bytes));
                drop(r);
                (c, b)
            }
            Strategy::Crate if v2 => {
                let (r, c, b) = counting::measure(|| smooch_events::parse_webhook(bytes));
                drop(r);
                (c, b)
            }
            Strategy::Crate => {
                let (r, c, b) = counting::measure(|| smooch_events::parse_event(bytes));
                drop(r);
                (c, b)
            }
            Strategy::Value => {
                let (r, c, b) = counting::measure(|| serde_json::from_slice::<serde_json::Value>(bytes));
                drop(r);
                (c, b)
            }
            Strategy::Naive => {
                let (r, c, b) = counting::measure(|| serde_json::from_slice::<naive::Event>(bytes));
                drop(r);
                (c, b)
            }
        };
        Allocs { count, bytes }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    /// One of the documented examples (`fixtures/*.json`), compact or pretty.
    Documented,
    /// The generated big `conversation:start`.
    Big,
    /// The `conversation:start` example, compact, with `trigger` as its last key.
    TriggerLast,
    /// `fixtures/written/message_appUser_unknown_keys_everywhere.json`, compact.
    UnknownKeys,
    /// One of the documented v2 examples (`fixtures/v2/*.json`), compact or pretty, read by
    /// `parse_webhook`. The naive model is v1's only: its column is empty for these.
    V2,
    /// A documented example, v1 or v2, compact, with the keys of every object sorted, as a relay
    /// writes it (Go's `encoding/json`, Python's `sort_keys`): `trigger` after `messages`, `type`
    /// after `payload`. Compared with the same body as sent.
    Sorted,
}

impl Group {
    fn name(self) -> &'static str {
        match self {
            Group::Documented => "documented",
            Group::Big => "big",
            Group::TriggerLast => "trigger_last",
            Group::UnknownKeys => "unknown_keys",
            Group::V2 => "v2",
            Group::Sorted => "sorted",
        }
    }
}

struct Case {
    name: String,
    form: &'static str,
    group: Group,
    bytes: Vec<u8>,
}

impl Case {
    fn label(&self) -> String {
        format!("{} {}", self.name, self.form)
    }

    /// Whether the body is a v2 one (read by `parse_webhook`; the naive model does not read it).
    fn is_v2(&self) -> bool {
        self.name.starts_with("v2/")
    }
}

/// Drops the whitespace outside strings, keeping every key where it is.
fn minify(json: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for &byte in json {
        if in_string {
            out.push(byte);
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
        } else if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = byte == b'"';
            out.push(byte);
        }
    }
    out
}

/// A `conversation:start` with 20 properties and 8 clients, each with a 10-key `info`; compact,
/// `trigger` first.
fn big_conversation_start() -> Vec<u8> {
    const PLATFORMS: [&str; 8] = [
        "messenger",
        "web",
        "ios",
        "android",
        "wechat",
        "line",
        "telegram",
        "twilio",
    ];
    let mut properties = Vec::new();
    for i in 0..20 {
        properties.push(match i % 4 {
            0 => format!(r#""prop{i:02}":"value number {i} of the user's properties""#),
            1 => format!(r#""prop{i:02}":{}"#, 1000 + i * 37),
            2 => format!(r#""prop{i:02}":{}"#, i % 3 == 0),
            _ => format!(r#""prop{i:02}":{}.25"#, i * 3),
        });
    }
    let mut clients = Vec::new();
    for (c, platform) in PLATFORMS.iter().enumerate() {
        let info = (0..10)
            .map(|k| match k % 3 {
                0 => format!(r#""infoKey{k}":"info value {k} of client {c}""#),
                1 => format!(r#""infoKey{k}":{}"#, 150_000 + c * 100 + k),
                _ => format!(r#""infoKey{k}":"{platform}-{k}""#),
            })
            .collect::<Vec<_>>()
            .join(",");
        clients.push(format!(
            concat!(
                r#"{{"active":{},"id":"5A7F8343-DF41-46A8-96EC-8583FCB422F{}","#,
                r#""lastSeen":"2016-03-0{}T19:09:01.431Z","platform":"{}","primary":{},"#,
                r#""displayName":"Bob {}","avatarUrl":"https://example.com/avatars/{}.png","#,
                r#""linkedAt":"2016-02-1{}T10:00:00.000Z","info":{{{}}}}}"#
            ),
            c != 3,
            c,
            c + 1,
            platform,
            c == 0,
            platform,
            c,
            c,
            info
        ));
    }
    format!(
        concat!(
            r#"{{"trigger":"conversation:start","app":{{"_id":"57ec2881c47d2d24b0c16427"}},"#,
            r#""source":{{"type":"messenger"}},"appUser":{{"_id":"c7f6e6d6c3a637261bd9656f","#,
            r#""userId":"bob@example.com","properties":{{{}}},"signedUpAt":"2015-10-06T03:38:02.346Z","#,
            r#""conversationStarted":true,"clients":[{}]}},"timestamp":1480349392.103}}"#
        ),
        properties.join(","),
        clients.join(",")
    )
    .into_bytes()
}

/// `compact` with its leading `"trigger":"…",` moved to the end of the object.
fn trigger_last(compact: &[u8]) -> Vec<u8> {
    let prefix = br#"{"trigger":"conversation:start","#;
    assert!(
        compact.starts_with(prefix) && compact.ends_with(b"}"),
        "unexpected conversation_start"
    );
    let mut out = b"{".to_vec();
    out.extend_from_slice(&compact[prefix.len()..compact.len() - 1]);
    out.extend_from_slice(br#","trigger":"conversation:start"}"#);
    out
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut documented: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures/")
        .map(|entry| entry.expect("fixtures/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    documented.sort();
    let mut cases = Vec::new();
    let mut start_compact = None;
    for path in &documented {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let pretty = std::fs::read(path).expect("fixture");
        let compact = minify(&pretty);
        if name == "conversation_start" {
            start_compact = Some(compact.clone());
        }
        for (form, bytes) in [("compact", compact), ("pretty", pretty)] {
            cases.push(Case {
                name: name.clone(),
                form,
                group: Group::Documented,
                bytes,
            });
        }
    }
    cases.push(Case {
        name: "big_conversation_start".into(),
        form: "compact",
        group: Group::Big,
        bytes: big_conversation_start(),
    });
    cases.push(Case {
        name: "conversation_start_trigger_last".into(),
        form: "compact",
        group: Group::TriggerLast,
        bytes: trigger_last(&start_compact.expect("fixtures/conversation_start.json")),
    });
    let mut v2: Vec<_> = std::fs::read_dir(dir.join("v2"))
        .expect("fixtures/v2/")
        .map(|entry| entry.expect("fixtures/v2/ entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    v2.sort();
    for path in &v2 {
        let name = format!("v2/{}", path.file_stem().unwrap().to_string_lossy());
        let pretty = std::fs::read(path).expect("fixture");
        let compact = minify(&pretty);
        for (form, bytes) in [("compact", compact), ("pretty", pretty)] {
            cases.push(Case {
                name: name.clone(),
                form,
                group: Group::V2,
                bytes,
            });
        }
    }
    let sorted: Vec<Case> = cases
        .iter()
        .filter(|case| matches!(case.group, Group::Documented | Group::V2) && case.form == "compact")
        .map(|case| {
            // serde_json's `Value` keeps the keys of an object sorted.
            let value: serde_json::Value = serde_json::from_slice(&case.bytes).expect("valid JSON");
            Case {
                name: case.name.clone(),
                form: "sorted",
                group: Group::Sorted,
                bytes: serde_json::to_vec(&value).expect("JSON"),
            }
        })
        .collect();
    cases.extend(sorted);
    let unknown = dir.join("written/message_appUser_unknown_keys_everywhere.json");
    cases.push(Case {
        name: "message_appUser_unknown_keys_everywhere".into(),
        form: "compact",
        group: Group::UnknownKeys,
        bytes: minify(&std::fs::read(unknown).expect("unknown-keys fixture")),
    });
    cases
}

/// Every strategy parses every case, and every case is the JSON it should be.
fn verify(cases: &[Case]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for case in cases {
        let value: serde_json::Value = serde_json::from_slice(&case.bytes).expect("valid JSON");
        let original = match case.group {
            Group::Documented | Group::V2 | Group::Sorted => Some(dir.join(format!("{}.json", case.name))),
            Group::TriggerLast => Some(dir.join("conversation_start.json")),
            Group::UnknownKeys => Some(dir.join("written/message_appUser_unknown_keys_everywhere.json")),
            Group::Big => None,
        };
        if let Some(original) = original {
            let original: serde_json::Value =
                serde_json::from_slice(&std::fs::read(original).unwrap()).unwrap();
            assert_eq!(value, original, "{}: not the fixture's JSON", case.label());
        }
        let v2 = case.is_v2();
        for strategy in STRATEGIES.into_iter().filter(|s| s.reads(case)) {
            if let Err(error) = strategy.check(&case.bytes, v2) {
                panic!("{}: {} fails: {error}", case.label(), strategy.name());
            }
        }
        if v2 {
            let webhook = smooch_events::parse_webhook(&case.bytes).unwrap();
            let events = webhook.as_v2().expect("a v2 body").events.len();
            assert!(events > 0 && webhook.event_types().iter().all(|t| !t.is_empty()));
            continue;
        }
        let event = smooch_events::parse_event(&case.bytes).unwrap();
        assert!(!event.is_unknown(), "{}: parsed as Event::Unknown", case.label());
        assert_eq!(
            Some(event.trigger()),
            value["trigger"].as_str(),
            "{}",
            case.label()
        );
    }
}

/// Iterations for a batch of about `target`: doubles the batch until it takes a quarter of
/// `target`, then takes the fastest of three batches of that size (a preempted one would make the
/// batches of the whole run too short).
fn calibrate(strategy: Strategy, case: &Case, target: Duration) -> u64 {
    if !strategy.reads(case) {
        return 0;
    }
    let (bytes, v2) = (&case.bytes, case.is_v2());
    let mut iters = 1u64;
    while strategy.batch(bytes, iters, v2) < target / 4 && iters < 1 << 24 {
        iters *= 2;
    }
    let fastest = (0..3).map(|_| strategy.batch(bytes, iters, v2)).min().unwrap();
    let per_parse = fastest.as_secs_f64() / iters as f64;
    ((target.as_secs_f64() / per_parse.max(1e-9)).round() as u64).max(1)
}

/// A number with `decimals` decimals, or `-` for one not measured.
fn shown(value: f64, decimals: usize) -> String {
    if value.is_nan() {
        "-".to_owned()
    } else {
        format!("{value:.decimals$}")
    }
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

fn minimum(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// `x` rounded to `digits` decimals, for the JSON line.
fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[derive(Serialize, Clone, Copy, Default)]
struct Allocs {
    count: u64,
    bytes: u64,
}

/// One number per strategy.
#[derive(Serialize, Clone, Copy, Default)]
struct PerStrategy<T> {
    floor: T,
    #[serde(rename = "crate")]
    krate: T,
    value: T,
    naive: T,
}

impl<T: Copy> PerStrategy<T> {
    fn from_fn(mut f: impl FnMut(Strategy) -> T) -> Self {
        PerStrategy {
            floor: f(Strategy::Floor),
            krate: f(Strategy::Crate),
            value: f(Strategy::Value),
            naive: f(Strategy::Naive),
        }
    }

    fn get(&self, strategy: Strategy) -> T {
        match strategy {
            Strategy::Floor => self.floor,
            Strategy::Crate => self.krate,
            Strategy::Value => self.value,
            Strategy::Naive => self.naive,
        }
    }
}

#[derive(Serialize)]
struct CaseReport {
    case: String,
    form: &'static str,
    group: &'static str,
    bytes: usize,
    iters_per_batch: PerStrategy<u64>,
    median_ns: PerStrategy<f64>,
    min_ns: PerStrategy<f64>,
    crate_over_floor: f64,
    value_over_crate: f64,
    naive_over_crate: f64,
    allocs: PerStrategy<Allocs>,
}

#[derive(Serialize)]
struct TargetReport {
    target: String,
    limit: f64,
    met: bool,
    worst: f64,
    worst_case: String,
}

#[derive(Serialize)]
struct Report {
    bench: &'static str,
    quick: bool,
    rounds: usize,
    batch_target_ms: f64,
    seconds: f64,
    size_of_event: usize,
    /// The CPU the run measured: ratios move from one CPU to another.
    cpu: String,
    cases: Vec<CaseReport>,
    trigger_last_over_first: PerStrategy<f64>,
    targets: Vec<TargetReport>,
    linearity: Vec<LinearityReport>,
}

/// A target on one ratio over the cases of one group.
struct Target {
    ratio: &'static str,
    group: Group,
    at_most: bool,
    limit: f64,
}

const TARGETS: [Target; 8] = [
    Target {
        ratio: "crate/floor",
        group: Group::Documented,
        at_most: true,
        limit: 3.0,
    },
    Target {
        ratio: "crate/floor",
        group: Group::Big,
        at_most: true,
        limit: 3.0,
    },
    Target {
        ratio: "crate/floor",
        group: Group::V2,
        at_most: true,
        limit: 3.0,
    },
    Target {
        ratio: "value/crate",
        group: Group::Documented,
        at_most: false,
        limit: 1.7,
    },
    Target {
        ratio: "value/crate",
        group: Group::V2,
        at_most: false,
        limit: 1.7,
    },
    Target {
        ratio: "value/crate",
        group: Group::Big,
        at_most: false,
        limit: 1.5,
    },
    Target {
        ratio: "naive/crate",
        group: Group::Documented,
        at_most: false,
        limit: 1.7,
    },
    Target {
        ratio: "naive/crate",
        group: Group::Big,
        at_most: false,
        limit: 1.2,
    },
];

/// The CPU's model name, from `/proc/cpuinfo` (Linux), or what is known of it elsewhere.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|line| {
                line.strip_prefix("model name")?
                    .split_once(':')
                    .map(|(_, m)| m.trim().to_owned())
            })
        })
        .unwrap_or_else(|| format!("an unknown {} CPU", std::env::consts::ARCH))
}

/// The most a body with its keys sorted may cost the crate, over the same body as sent.
const SORTED_LIMIT: f64 = 1.15;

fn ratio_of(report: &CaseReport, ratio: &str) -> f64 {
    match ratio {
        "crate/floor" => report.crate_over_floor,
        "value/crate" => report.value_over_crate,
        "naive/crate" => report.naive_over_crate,
        _ => unreachable!("unknown ratio {ratio}"),
    }
}

fn allocs_cell(allocs: Allocs) -> String {
    format!("{:>3} ({:>5} B)", allocs.count, allocs.bytes)
}

fn main() {
    let began = Instant::now();
    let quick = std::env::var("RATIOS_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let batch_target = if quick {
        Duration::from_micros(100)
    } else {
        Duration::from_millis(1)
    };
    let budget = Duration::from_secs(45);

    let cases = load_cases();
    verify(&cases);
    let documented = cases.iter().filter(|c| c.group == Group::Documented).count() / 2;
    let v2 = cases.iter().filter(|c| c.group == Group::V2).count() / 2;
    let cpu = cpu_model();
    println!(
        "ratios: {} cases ({documented} documented v1 and {v2} v2 examples, compact, pretty and \
         with sorted keys, plus 3), size_of::<smooch_events::Event>() = {} bytes, on {cpu}",
        cases.len(),
        std::mem::size_of::<smooch_events::Event>()
    );

    // Allocations of one parse, after one warm-up parse.
    let allocs: Vec<PerStrategy<Allocs>> = cases
        .iter()
        .map(|case| {
            PerStrategy::from_fn(|s| {
                if !s.reads(case) {
                    return Allocs { count: 0, bytes: 0 };
                }
                let v2 = case.is_v2();
                s.allocs(&case.bytes, v2);
                s.allocs(&case.bytes, v2)
            })
        })
        .collect();

    let iters: Vec<PerStrategy<u64>> = cases
        .iter()
        .map(|case| PerStrategy::from_fn(|s| calibrate(s, case, batch_target)))
        .collect();
    let run_round = |round: usize, samples: &mut Vec<[Vec<f64>; 4]>| {
        for (i, case) in cases.iter().enumerate() {
            for k in 0..STRATEGIES.len() {
                let slot = (round + k) % STRATEGIES.len();
                let strategy = STRATEGIES[slot];
                let n = iters[i].get(strategy);
                if n == 0 {
                    // A strategy that does not read this case.
                    samples[i][slot].push(f64::NAN);
                    continue;
                }
                let took = strategy.batch(&case.bytes, n, case.is_v2());
                samples[i][slot].push(took.as_nanos() as f64 / n as f64);
            }
        }
    };
    // One unrecorded round warms up and says how long a round takes.
    let mut samples: Vec<[Vec<f64>; 4]> = cases.iter().map(|_| Default::default()).collect();
    let warm = Instant::now();
    run_round(0, &mut samples);
    let round_time = warm.elapsed();
    let rounds = if quick {
        3
    } else {
        ((budget.as_secs_f64() / round_time.as_secs_f64()) as usize).clamp(15, 2000)
    };
    for per_case in &mut samples {
        per_case.iter_mut().for_each(Vec::clear);
    }
    for round in 0..rounds {
        run_round(round, &mut samples);
    }

    let reports: Vec<CaseReport> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let slot = |s: Strategy| STRATEGIES.iter().position(|&t| t == s).unwrap();
            let median_ns = PerStrategy::from_fn(|s| median(&samples[i][slot(s)]));
            let min_ns = PerStrategy::from_fn(|s| minimum(&samples[i][slot(s)]));
            CaseReport {
                case: case.name.clone(),
                form: case.form,
                group: case.group.name(),
                bytes: case.bytes.len(),
                iters_per_batch: iters[i],
                median_ns,
                min_ns,
                crate_over_floor: median_ns.krate / median_ns.floor,
                value_over_crate: median_ns.value / median_ns.krate,
                naive_over_crate: median_ns.naive / median_ns.krate,
                allocs: allocs[i],
            }
        })
        .collect();

    println!(
        "{rounds} rounds, batches of ~{:.1} ms; median ns per parse (min in the JSON line); \
         allocations per parse as count (bytes)\n",
        batch_target.as_secs_f64() * 1e3
    );
    println!(
        "{:<40} {:<7} {:>5} {:>8} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7}   {:<15}   {:<15}",
        "case",
        "form",
        "bytes",
        "floor",
        "crate",
        "value",
        "naive",
        "cr/fl",
        "val/cr",
        "nv/cr",
        "allocs crate",
        "allocs value"
    );
    for (case, r) in cases.iter().zip(&reports) {
        println!(
            "{:<40} {:<7} {:>5} {:>8.0} {:>8.0} {:>8.0} {:>8} {:>7.2} {:>7.2} {:>7}   {}   {}",
            case.name,
            case.form,
            r.bytes,
            r.median_ns.floor,
            r.median_ns.krate,
            r.median_ns.value,
            shown(r.median_ns.naive, 0),
            r.crate_over_floor,
            r.value_over_crate,
            shown(r.naive_over_crate, 2),
            allocs_cell(r.allocs.krate),
            allocs_cell(r.allocs.value),
        );
    }
    println!();

    let mut targets = Vec::new();
    for target in &TARGETS {
        let (worst, worst_case) = cases
            .iter()
            .zip(&reports)
            .filter(|(case, _)| case.group == target.group)
            .map(|(case, r)| (ratio_of(r, target.ratio), case.label()))
            .reduce(|a, b| {
                let b_worse = if target.at_most { b.0 > a.0 } else { b.0 < a.0 };
                if b_worse {
                    b
                } else {
                    a
                }
            })
            .expect("a case in every group");
        let met = if target.at_most {
            worst <= target.limit
        } else {
            worst >= target.limit
        };
        let name = format!(
            "{} {} {} on {}",
            target.ratio,
            if target.at_most { "<=" } else { ">=" },
            target.limit,
            match target.group {
                Group::Documented => "every documented v1 example, compact and pretty",
                Group::V2 => "every documented v2 example, compact and pretty",
                _ => "the big payload",
            }
        );
        println!(
            "target {name}: {} (worst {worst:.2}, {worst_case})",
            if met { "met" } else { "NOT MET" }
        );
        targets.push(TargetReport {
            target: name,
            limit: target.limit,
            met,
            worst: round(worst, 3),
            worst_case,
        });
    }
    // Keys sorted: the crate on the sorted body over the crate on the same body as sent.
    let (worst, worst_case) = cases
        .iter()
        .zip(&reports)
        .filter(|(case, _)| case.group == Group::Sorted)
        .map(|(case, r)| {
            let sent = cases
                .iter()
                .position(|c| c.name == case.name && c.form == "compact" && c.group != Group::Sorted)
                .expect("the body as sent");
            (
                r.median_ns.krate / reports[sent].median_ns.krate,
                case.name.clone(),
            )
        })
        .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a });
    let met = worst <= SORTED_LIMIT;
    let name = format!("crate sorted/as sent <= {SORTED_LIMIT} on every documented example, v1 and v2");
    println!(
        "target {name}: {} (worst {worst:.2}, {worst_case})",
        if met { "met" } else { "NOT MET" }
    );
    targets.push(TargetReport {
        target: name,
        limit: SORTED_LIMIT,
        met,
        worst: round(worst, 3),
        worst_case,
    });
    let position = |group: Group| cases.iter().position(|c| c.group == group).unwrap();
    let first = cases
        .iter()
        .position(|c| c.name == "conversation_start" && c.form == "compact")
        .unwrap();
    let last = position(Group::TriggerLast);
    let trigger_last_over_first =
        PerStrategy::from_fn(|s| reports[last].median_ns.get(s) / reports[first].median_ns.get(s));
    // Not a target: the reader looks ahead past the keys before `trigger` (scanning their text,
    // reading no value), then reads each of them once.
    println!(
        "trigger-last/trigger-first: crate {:.2}, floor {:.2}, value {:.2}, naive {:.2}",
        trigger_last_over_first.krate,
        trigger_last_over_first.floor,
        trigger_last_over_first.value,
        trigger_last_over_first.naive,
    );

    let linearity = linearity(quick);

    let report = Report {
        bench: "ratios",
        quick,
        rounds,
        batch_target_ms: batch_target.as_secs_f64() * 1e3,
        seconds: round(began.elapsed().as_secs_f64(), 1),
        size_of_event: std::mem::size_of::<smooch_events::Event>(),
        cpu,
        cases: reports
            .into_iter()
            .map(|r| CaseReport {
                median_ns: PerStrategy::from_fn(|s| round(r.median_ns.get(s), 1)),
                min_ns: PerStrategy::from_fn(|s| round(r.min_ns.get(s), 1)),
                crate_over_floor: round(r.crate_over_floor, 3),
                value_over_crate: round(r.value_over_crate, 3),
                naive_over_crate: round(r.naive_over_crate, 3),
                ..r
            })
            .collect(),
        trigger_last_over_first: PerStrategy::from_fn(|s| round(trigger_last_over_first.get(s), 3)),
        targets,
        linearity,
    };
    println!(
        "{}",
        serde_json::to_string(&report).expect("the report serializes")
    );
}

/// One body of the linearity check.
#[derive(Serialize)]
struct LinearityReport {
    shape: &'static str,
    bytes: usize,
    floor_ns_per_byte: f64,
    crate_ns_per_byte: f64,
    /// The most bytes the crate held at once while parsing, over the body's size.
    crate_peak_over_body: f64,
}

/// A `message:appUser` of about `size` bytes, grown in one of two ways.
fn big_body(shape: &str, size: usize) -> Vec<u8> {
    let head = r#"{"trigger":"message:appUser","appUser":{"_id":"c7f6e6d6c3a637261bd9656f","properties":{"#;
    let mut body = head.to_owned();
    match shape {
        // One long string: a 10 MiB message text.
        "one long string" => {
            body.push_str(r#"}},"messages":[{"_id":"m","role":"appUser","text":""#);
            body.push_str(&"x".repeat(size));
            body.push_str(r#""}]}"#);
        }
        // Many small keys: unknown entries in a free-form map.
        _ => {
            let mut i = 0;
            while body.len() < size {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&format!(r#""key{i}":{i}"#));
                i += 1;
            }
            body.push_str(r#"}},"messages":[{"_id":"m","role":"appUser","text":"hi"}]}"#);
        }
    }
    body.into_bytes()
}

/// Parsing stays linear in time and memory: 1 MiB and 10 MiB bodies of two shapes, each parsed a
/// few times (the minimum is kept), reported per byte, with the peak memory held while parsing.
fn linearity(quick: bool) -> Vec<LinearityReport> {
    let runs = if quick { 1 } else { 5 };
    let mut reports = Vec::new();
    println!("\nlinearity: ns per byte (min of {runs}) and peak memory held by the crate while parsing\n");
    for shape in ["one long string", "many small keys"] {
        let mut per_size = Vec::new();
        for size in [1 << 20, 10 << 20] {
            let bytes = big_body(shape, size);
            let time = |f: &dyn Fn()| {
                (0..runs)
                    .map(|_| {
                        let start = Instant::now();
                        f();
                        start.elapsed().as_nanos() as f64
                    })
                    .fold(f64::INFINITY, f64::min)
            };
            let floor = time(&|| {
                black_box(serde_json::from_slice::<IgnoredAny>(black_box(&bytes)).unwrap());
            });
            let krate = time(&|| {
                black_box(smooch_events::parse_event(black_box(&bytes)).unwrap());
            });
            let (event, peak) = counting::measure_peak(|| smooch_events::parse_event(&bytes).unwrap());
            drop(event);
            let report = LinearityReport {
                shape,
                bytes: bytes.len(),
                floor_ns_per_byte: round(floor / bytes.len() as f64, 3),
                crate_ns_per_byte: round(krate / bytes.len() as f64, 3),
                crate_peak_over_body: round(peak as f64 / bytes.len() as f64, 2),
            };
            println!(
                "{:<16} {:>9} bytes: floor {:.3} ns/B, crate {:.3} ns/B (crate/floor {:.2}), peak {:.2}x the body",
                shape,
                report.bytes,
                report.floor_ns_per_byte,
                report.crate_ns_per_byte,
                report.crate_ns_per_byte / report.floor_ns_per_byte,
                report.crate_peak_over_body
            );
            per_size.push((report.crate_ns_per_byte, report.floor_ns_per_byte));
            reports.push(report);
        }
        println!(
            "{shape}: 10 MiB / 1 MiB time per byte = {:.2} for the crate, {:.2} for the floor (1.00 is linear)",
            per_size[1].0 / per_size[0].0,
            per_size[1].1 / per_size[0].1
        );
    }
    println!();
    reports
}
