//! The written v2 fixtures (`fixtures/v2/written/`): what the documented examples do not show.

use crate::common::{assert_v2_round_trip, fixture, ms, parse_v2, without_nulls};
use serde_json::{json, Value};
use smooch_events::v2::{
    Action, ActivityMessage, ActivityType, AuthorSubtype, AuthorType, ChannelType, ClientRemoveReason,
    Content, CreationReason, DeviceStatus, DeviceType, Event, FieldFormat, FieldType, ImageAspectRatio,
    ItemSize, MergeReason, QuotedMessage, ReferralSource, ReferralType, SwitchboardReason, UserUpdateReason,
    WebhookVersion, WebviewShareButton, WebviewSize,
};
use smooch_events::{parse_webhook, v2};

/// The content of the message of event `i`.
fn content(webhook: &v2::Body, i: usize) -> &Content {
    webhook.events[i].message().unwrap().content.as_ref().unwrap()
}

#[test]
fn several_events_of_different_types_in_one_body() {
    let name = "v2/written/several_events.json";
    let webhook = parse_v2(name);
    assert_eq!(
        smooch_events::Webhook::from(webhook.clone()).event_types(),
        [
            "conversation:message",
            "conversation:read",
            "conversation:message:delivery:channel",
            "user:update",
            "switchboard:passControl"
        ]
    );
    let ids: Vec<_> = webhook.events.iter().map(|e| e.id().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] != w[1]), "{ids:?}");
    assert_eq!(
        webhook.events[0].message().unwrap().text(),
        Some("Hi, my order has not arrived.")
    );
    let Event::ConversationMessageDeliveryChannel(delivery) = &webhook.events[2] else {
        panic!()
    };
    assert_eq!(delivery.payload.as_ref().unwrap().is_final_event, Some(false));
    assert_eq!(
        webhook.events[3].user().unwrap().id.as_deref(),
        Some("1a64f7f75028fef55f815007")
    );
    assert_eq!(ms(webhook.events[3].created_at()), 1710408414001);
    let Event::SwitchboardPassControl(pass) = &webhook.events[4] else {
        panic!()
    };
    let payload = pass.payload.as_ref().unwrap();
    let metadata = payload.metadata.as_ref().unwrap();
    assert_eq!(
        (metadata["priority"].clone(), metadata["vip"].clone()),
        (json!(2), json!(true))
    );
    let active = webhook.events[4]
        .conversation()
        .unwrap()
        .active_switchboard_integration
        .as_ref()
        .unwrap();
    assert_eq!(active.integration_type, Some(ChannelType::ZdAgentWorkspace));
    // The source's nulls are kept where they were.
    let source = webhook.events[0].message().unwrap().source.as_ref().unwrap();
    assert_eq!(source.original_message_id, None);
    assert_eq!(source.extra["originalMessageId"], Value::Null);
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn the_full_user_and_the_full_source() {
    let name = "v2/written/full_user_and_source.json";
    let webhook = parse_v2(name);
    let message = webhook.events[0].message().unwrap();
    let user = message.author.as_ref().unwrap().user.as_ref().unwrap();
    assert_eq!(user.zendesk_id.as_deref(), Some("30045042291606"));
    assert_eq!(user.brand_id.as_deref(), Some("360001234567"));
    assert_eq!(ms(user.signed_up_at.as_ref()), 1590085787018);
    assert_eq!(user.to_be_retained, Some(false));
    let profile = user.profile.as_ref().unwrap();
    assert_eq!(profile.given_name.as_deref(), Some("Steve"));
    assert_eq!(profile.surname.as_deref(), Some("Rogers"));
    assert_eq!(profile.email.as_deref(), Some("steve@example.com"));
    assert_eq!(profile.locale.as_deref(), Some("en-US"));
    assert!(profile
        .avatar_url
        .as_deref()
        .unwrap()
        .starts_with("https://www.gravatar.com/"));
    assert_eq!(user.metadata.as_ref().unwrap()["seats"], 12);
    let [identity] = &user.identities.as_ref().unwrap()[..] else {
        panic!()
    };
    assert_eq!(
        (
            identity.kind.as_deref(),
            identity.value.as_deref(),
            identity.verification.as_deref()
        ),
        (Some("email"), Some("steve@example.com"), Some("embed"))
    );

    let source = message.source.as_ref().unwrap();
    let client = source.client.as_ref().unwrap();
    assert_eq!(client.kind, Some(ChannelType::Sdk));
    assert_eq!(
        (
            client.integration_id.as_ref(),
            client.extra["integrationId"].clone()
        ),
        (None, Value::Null)
    );
    assert_eq!(ms(client.last_seen.as_ref()), 1710408410004);
    assert_eq!(client.info.as_ref().unwrap()["sdkVersion"], "2.12.0");
    let device = source.device.as_ref().unwrap();
    assert_eq!(device.kind, Some(DeviceType::Web));
    assert_eq!(device.status, Some(DeviceStatus::Active));
    assert_eq!(device.guid.as_deref(), Some("e5b0cca4a4fa4a1ea0d2b8d7a5d2f5c4"));
    assert_eq!(device.client_id, client.id);
    assert_eq!(ms(device.last_seen.as_ref()), 1710408410004);
    assert_eq!(
        source.campaign.as_ref().unwrap().id.as_deref(),
        Some("65a8f0e2c1d4b30012345678")
    );

    let Event::UserUpdate(update) = &webhook.events[1] else {
        panic!()
    };
    let payload = update.payload.as_ref().unwrap();
    assert_eq!(payload.reason, Some(UserUpdateReason::LocaleDetection));
    assert_eq!(payload.user.as_ref(), Some(user));
    assert_eq!(payload.source.as_ref().unwrap().device.as_ref(), Some(device));

    let Event::ConversationPostback(postback) = &webhook.events[2] else {
        panic!()
    };
    let postback = postback.payload.as_ref().unwrap().postback.as_ref().unwrap();
    assert_eq!(postback.payload.as_deref(), Some("TRACK_ORDER"));
    assert_eq!(postback.metadata.as_ref().unwrap()["orderId"], "A-1001");
    assert_v2_round_trip(name, &webhook);
}

/// The `content_types.json` fixture, parsed: one `conversation:message` per content type.
fn content_types() -> v2::Body {
    parse_v2("v2/written/content_types.json")
}

#[test]
fn the_content_types_fixture_has_every_content_type_in_order_and_round_trips() {
    let name = "v2/written/content_types.json";
    let webhook = parse_v2(name);
    let types: Vec<_> = (0..webhook.events.len())
        .map(|i| content(&webhook, i).type_name())
        .collect();
    assert_eq!(types, Content::TYPES);
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn a_text_keeps_its_html_and_its_chat_input_flag() {
    let webhook = content_types();
    let Content::Text(text) = content(&webhook, 0) else {
        panic!()
    };
    assert_eq!(
        text.html_text.as_deref(),
        Some("Your order <b>#1001</b> has shipped.")
    );
    assert_eq!(text.block_chat_input, Some(false));
}

#[test]
fn an_image_has_its_size_type_alt_text_and_attachment() {
    let webhook = content_types();
    let Content::Image(image) = content(&webhook, 1) else {
        panic!()
    };
    assert_eq!(image.media_size, Some(148513.0));
    assert_eq!(image.media_type.as_deref(), Some("image/png"));
    assert_eq!(image.alt_text.as_deref(), Some("A taco"));
    assert_eq!(image.attachment_id.as_deref(), Some("a1b2c3d4e5f6"));
}

#[test]
fn a_file_has_its_size_type_and_url() {
    let webhook = content_types();
    let Content::File(file) = content(&webhook, 2) else {
        panic!()
    };
    assert_eq!(
        (file.media_size, file.media_type.as_deref()),
        (Some(52318.0), Some("application/pdf"))
    );
    assert!(file.media_url.as_deref().unwrap().ends_with("invoice.pdf"));
}

#[test]
fn a_carousel_has_its_display_settings_items_and_their_actions() {
    let webhook = content_types();
    let carousel = content(&webhook, 3);
    let Content::Carousel(c) = carousel else { panic!() };
    assert_eq!(
        c.display_settings.as_ref().unwrap().image_aspect_ratio,
        Some(ImageAspectRatio::Square)
    );
    let items = carousel.items();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0].title.as_deref(), items[0].size.as_ref()),
        (Some("Taco"), Some(&ItemSize::Large))
    );
    let actions = items[0].actions.as_ref().unwrap();
    assert!(matches!(&actions[0], Action::Postback(p) if p.payload.as_deref() == Some("BUY_TACO")));
    assert!(matches!(&actions[1], Action::Link(l) if l.default == Some(true)));
    let Action::Webview(webview) = &items[1].actions.as_ref().unwrap()[0] else {
        panic!()
    };
    assert_eq!(webview.size, Some(WebviewSize::Tall));
}

#[test]
fn a_list_has_its_items_their_actions_and_its_own_actions() {
    let webhook = content_types();
    let list = content(&webhook, 4);
    let Content::List(l) = list else { panic!() };
    assert_eq!(l.block_chat_input, Some(true));
    assert_eq!(list.items()[1].title.as_deref(), Some("Order #1002"));
    let Action::Buy(buy) = &list.items()[1].actions.as_ref().unwrap()[0] else {
        panic!()
    };
    assert_eq!((buy.amount, buy.currency.as_deref()), (Some(999), Some("CAD")));
    assert_eq!(list.actions()[0].text(), Some("More orders"));
}

#[test]
fn a_location_has_its_coordinates_and_place() {
    let webhook = content_types();
    let Content::Location(location) = content(&webhook, 5) else {
        panic!()
    };
    let coordinates = location.coordinates.as_ref().unwrap();
    assert_eq!(
        (coordinates.lat, coordinates.long),
        (Some(45.5261583), Some(-73.595346))
    );
    assert_eq!(
        location.location.as_ref().unwrap().name.as_deref(),
        Some("Zendesk")
    );
    assert_eq!(
        webhook.events[5].message().unwrap().author.as_ref().unwrap().kind,
        Some(AuthorType::User)
    );
}

#[test]
fn a_form_has_its_fields_of_each_type() {
    let webhook = content_types();
    let Content::Form(form) = content(&webhook, 6) else {
        panic!()
    };
    assert_eq!(form.submitted, Some(false));
    let fields = form.fields.as_ref().unwrap();
    let kinds: Vec<_> = fields.iter().map(|f| f.kind.clone().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            FieldType::Text,
            FieldType::Email,
            FieldType::Select,
            FieldType::Text
        ]
    );
    assert_eq!((fields[0].min_size, fields[0].max_size), (Some(1), Some(64)));
    assert_eq!(fields[0].placeholder.as_deref(), Some("Jane Doe"));
    let options = fields[2].options.as_ref().unwrap();
    assert_eq!(
        (options[1].label.as_deref(), options[1].name.as_deref()),
        (Some("Large"), Some("l"))
    );
    assert_eq!(fields[3].format, Some(FieldFormat::Integer));
}

#[test]
fn a_form_response_has_its_answers_and_a_fallback_text() {
    let webhook = content_types();
    let response = content(&webhook, 7);
    let Content::FormResponse(r) = response else {
        panic!()
    };
    let answers = r.fields.as_ref().unwrap();
    assert_eq!(answers[0].text.as_deref(), Some("Jane Doe"));
    assert_eq!(answers[1].email.as_deref(), Some("jane@example.com"));
    assert_eq!(answers[2].select.as_ref().unwrap()[0]["name"], "l");
    assert_eq!(response.text(), None);
    assert!(response
        .text_or_fallback()
        .unwrap()
        .starts_with("Your name: Jane Doe\n"));
}

#[test]
fn a_template_keeps_its_template_as_json() {
    let webhook = content_types();
    let Content::Template(template) = content(&webhook, 8) else {
        panic!()
    };
    let template = template.template.as_ref().unwrap();
    assert_eq!(template["name"], "order_shipped");
    assert_eq!(template["language"]["code"], "en");
}

#[test]
fn every_action_type() {
    let name = "v2/written/action_types.json";
    let webhook = parse_v2(name);
    let actions = content(&webhook, 0).actions();
    let types: Vec<_> = actions.iter().map(Action::type_name).collect();
    assert_eq!(types, Action::TYPES);
    let [Action::Buy(buy), Action::Link(link), Action::LocationRequest(location), Action::Postback(postback), Action::Reply(reply), Action::Webview(webview)] =
        actions
    else {
        panic!("{actions:?}")
    };
    assert_eq!(
        (buy.text.as_deref(), buy.amount, buy.currency.as_deref()),
        (Some("Buy for $9.99"), Some(999), Some("usd"))
    );
    assert_eq!(buy.metadata.as_ref().unwrap()["sku"], "T-1");
    assert_eq!(link.uri.as_deref(), Some("https://shop.example.com/menu"));
    let messenger = link
        .extra_channel_options
        .as_ref()
        .unwrap()
        .messenger
        .as_ref()
        .unwrap();
    assert_eq!(messenger.messenger_extensions, Some(true));
    assert_eq!(messenger.webview_share_button, Some(WebviewShareButton::Hide));
    assert_eq!(location.text.as_deref(), Some("Share your location"));
    assert_eq!(postback.payload.as_deref(), Some("HUMAN"));
    assert_eq!(
        reply.icon_url.as_deref(),
        Some("https://www.example.com/taco-icon.png")
    );
    assert_eq!(reply.metadata.as_ref().unwrap()["n"], 1);
    assert_eq!(
        webview.fallback.as_deref(),
        Some("https://shop.example.com/slots?nowebview=1")
    );
    assert_eq!(
        (webview.size.as_ref(), webview.open_on_receive),
        (Some(&WebviewSize::Full), Some(true))
    );

    let replies: Vec<_> = content(&webhook, 1)
        .actions()
        .iter()
        .map(|a| a.text().unwrap())
        .collect();
    assert_eq!(replies, ["Yes", "No"]);
    let Content::Text(tapped) = content(&webhook, 2) else {
        panic!()
    };
    assert_eq!(
        (tapped.text.as_deref(), tapped.payload.as_deref()),
        (Some("Tacos"), Some("TACOS"))
    );
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn quoted_messages() {
    let name = "v2/written/quoted_message.json";
    let webhook = parse_v2(name);

    let message = webhook.events[0].message().unwrap();
    assert_eq!(message.content.as_ref().unwrap().type_name(), "formResponse");
    let Some(QuotedMessage::Message(quoted)) = &message.quoted_message else {
        panic!("{message:?}")
    };
    let form = quoted.message.as_ref().unwrap();
    assert_eq!(form.id.as_deref(), Some("65f2c2bd8a1e7c00bb000001"));
    assert_eq!(form.content.as_ref().unwrap().type_name(), "form");
    let author = form.author.as_ref().unwrap();
    assert_eq!(author.kind, Some(AuthorType::Business));
    assert_eq!(author.subtypes.as_deref(), Some(&[AuthorSubtype::Ai][..]));
    assert_eq!(author.display_name.as_deref(), Some("Acme Bot"));
    assert_eq!(form.deleted, Some(false));
    assert_eq!(
        (form.metadata.as_ref(), form.extra["metadata"].clone()),
        (None, Value::Null)
    );
    let reference = &form.references.as_ref().unwrap()[0];
    assert_eq!(
        reference.uri.as_deref(),
        Some("https://help.example.com/articles/42")
    );
    assert_eq!(reference.title.as_deref(), Some("Shipping times"));
    // A quote of a quote.
    let Some(QuotedMessage::ExternalMessageId(inner)) = &form.quoted_message else {
        panic!()
    };
    assert!(inner
        .external_message_id
        .as_deref()
        .unwrap()
        .starts_with("wamid."));

    let message = webhook.events[1].message().unwrap();
    assert_eq!(
        message.source.as_ref().unwrap().kind.as_ref().map(|k| k.as_str()),
        Some("whatsapp")
    );
    let Some(QuotedMessage::Message(quoted)) = &message.quoted_message else {
        panic!()
    };
    let closed = quoted.message.as_ref().unwrap();
    assert!(
        matches!(&closed.activity, Some(ActivityMessage::TicketClosed(t)) if t.data.as_ref().unwrap().is_empty())
    );
    assert_eq!(
        closed.author.as_ref().unwrap().subtypes.as_deref(),
        Some(&[AuthorSubtype::Activity][..])
    );
    assert_eq!(closed.text(), Some("Your ticket was closed."));

    let message = webhook.events[2].message().unwrap();
    assert!(matches!(
        &message.quoted_message,
        Some(QuotedMessage::ExternalMessageId(_))
    ));
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn recent_notifications() {
    let name = "v2/written/recent_notifications.json";
    let webhook = parse_v2(name);
    let Event::ConversationMessage(e) = &webhook.events[0] else {
        panic!()
    };
    let payload = e.payload.as_ref().unwrap();
    assert_eq!(payload.message.as_ref().unwrap().text(), Some("STOP"));
    let recent = payload.recent_notifications.as_ref().unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[0].text(), Some("Your order #1001 has shipped."));
    assert_eq!(recent[0].metadata.as_ref().unwrap()["campaign"], "shipping");
    assert_eq!(ms(recent[0].received.as_ref()), 1710349331201);
    assert_eq!(
        recent[1].source.as_ref().unwrap().kind,
        Some(ChannelType::Notification)
    );
    let Some(Content::Image(image)) = &recent[1].content else {
        panic!()
    };
    assert_eq!(image.media_size, Some(30211.0));
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn nullable_fields_as_null_and_as_absent() {
    let null = parse_v2("v2/written/nullable_null.json");
    let absent = parse_v2("v2/written/nullable_absent.json");
    assert_v2_round_trip("v2/written/nullable_null.json", &null);
    assert_v2_round_trip("v2/written/nullable_absent.json", &absent);
    // The same body, but for the `null` members, which are kept in `extra`.
    let null_value = serde_json::to_value(&null).unwrap();
    assert_eq!(without_nulls(null_value), serde_json::to_value(&absent).unwrap());
    assert_ne!(null, absent);
    for webhook in [&null, &absent] {
        assert_eq!(webhook.validate_at(chrono::Utc::now()), Ok(()));
        // Null and absent read the same: `None`.
        assert_eq!(webhook.events[0].conversation(), None);
        let Event::ClientAdd(add) = &webhook.events[0] else {
            panic!()
        };
        let client = add.payload.as_ref().unwrap().client.as_ref().unwrap();
        assert_eq!((client.last_seen.as_ref(), client.info.as_ref()), (None, None));
        let Event::ConversationCreate(create) = &webhook.events[2] else {
            panic!()
        };
        let create = create.payload.as_ref().unwrap();
        assert_eq!((create.user.as_ref(), create.referral.as_ref()), (None, None));
        assert_eq!(create.creation_reason, Some(CreationReason::StartConversation));
        let conversation = create.conversation.as_ref().unwrap();
        assert_eq!(conversation.active_switchboard_integration, None);
        let message = webhook.events[3].message().unwrap();
        assert_eq!((message.quoted_message.as_ref(), message.deleted), (None, None));
        let profile = message
            .author
            .as_ref()
            .unwrap()
            .user
            .as_ref()
            .unwrap()
            .profile
            .as_ref()
            .unwrap();
        assert_eq!(profile.given_name, None);
        let Event::ConversationMessageDeliveryUser(delivery) = &webhook.events[4] else {
            panic!()
        };
        assert_eq!(delivery.payload.as_ref().unwrap().external_messages, None);
        let Event::ConversationReferral(referral) = &webhook.events[5] else {
            panic!()
        };
        let details = referral
            .payload
            .as_ref()
            .unwrap()
            .referral
            .as_ref()
            .unwrap()
            .details
            .as_ref()
            .unwrap();
        assert_eq!(
            (details.source.as_ref(), details.kind.as_ref()),
            (Some(&ReferralSource::Ads), Some(&ReferralType::OpenThread))
        );
        assert_eq!(details.ad_id, None);
        let Event::UserMerge(merge) = &webhook.events[6] else {
            panic!()
        };
        let merge = merge.payload.as_ref().unwrap();
        assert_eq!(
            (
                &merge.merged_conversations,
                &merge.merged_clients,
                &merge.discarded_metadata
            ),
            (&None, &None, &None)
        );
        assert_eq!(merge.reason, Some(MergeReason::SdkLogin));
    }
}

#[test]
fn unknown_event_content_and_action_types_are_kept_whole() {
    let name = "v2/written/unknown_types.json";
    let webhook = parse_v2(name);
    let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
    for (i, kind) in [(0, "passthrough:messaging"), (1, "conversation:somethingNew")] {
        let event = &webhook.events[i];
        let Event::Unknown(unknown) = event else {
            panic!("{event:?}")
        };
        assert_eq!(event.trigger(), kind);
        assert_eq!(Value::Object(unknown.body.clone()), original["events"][i]);
        assert!(event.id().unwrap().starts_with("65f2c2bd"));
        assert!(event.created_at().is_some());
    }
    // The accessors read an unknown event's body too.
    assert_eq!(
        webhook.events[0].conversation_id(),
        Some("f52b01137aa6c250bc7251fa")
    );
    assert_eq!(webhook.events[0].conversation(), None);

    let Content::Unknown(video) = content(&webhook, 2) else {
        panic!()
    };
    assert_eq!(video.type_name(), "video");
    assert_eq!(
        Value::Object(video.body.clone()),
        original["events"][2]["payload"]["message"]["content"]
    );
    let actions = content(&webhook, 3).actions();
    assert!(matches!(&actions[0], Action::Unknown(share) if share.type_name() == "share"));
    assert!(matches!(&actions[1], Action::Reply(_)));
    assert_eq!(actions[0].text(), Some("Share"));
    assert_v2_round_trip(name, &webhook);
}

#[test]
fn no_events() {
    let name = "v2/written/no_events.json";
    let webhook = parse_v2(name);
    assert!(webhook.events.is_empty());
    assert_eq!(webhook.app_id(), Some("5ebee0975ac5304b664a12fa"));
    assert_eq!(webhook.validate(), Ok(()));
    assert!(smooch_events::Webhook::from(webhook.clone())
        .event_types()
        .is_empty());
    assert_v2_round_trip(name, &webhook);
    // The smallest v2 body.
    let smallest = parse_webhook(br#"{"events":[]}"#).unwrap();
    assert_eq!(smallest.into_v2().unwrap(), v2::Body::new(vec![]));
}

/// The `fields_examples_omit.json` fixture, parsed.
fn fields_examples_omit() -> v2::Body {
    parse_v2("v2/written/fields_examples_omit.json")
}

#[test]
fn the_fields_the_examples_omit_round_trip() {
    let name = "v2/written/fields_examples_omit.json";
    assert_v2_round_trip(name, &parse_v2(name));
}

#[test]
fn client_remove_keeps_its_link_failure_error_and_conversation() {
    let webhook = fields_examples_omit();
    let Event::ClientRemove(remove) = &webhook.events[0] else {
        panic!()
    };
    let remove = remove.payload.as_ref().unwrap();
    assert_eq!(remove.reason, Some(ClientRemoveReason::LinkFailed));
    let error = remove.error.as_ref().unwrap();
    assert_eq!(error.code.as_deref(), Some("link_failed"));
    // An untyped error: its other keys are kept.
    assert_eq!(error.extra["retryable"], false);
    assert_eq!(
        webhook.events[0].conversation_id(),
        Some("c2c8710dedf8f26ee6e9a68f")
    );
}

#[test]
fn conversation_create_has_its_reason_campaign_and_referral() {
    let webhook = fields_examples_omit();
    let Event::ConversationCreate(create) = &webhook.events[1] else {
        panic!()
    };
    let create = create.payload.as_ref().unwrap();
    assert_eq!(create.creation_reason, Some(CreationReason::ProactiveMessaging));
    assert_eq!(
        create
            .source
            .as_ref()
            .unwrap()
            .campaign
            .as_ref()
            .unwrap()
            .id
            .as_deref(),
        Some("65a8f0e2c1d4b30012345678")
    );
    let referral = create.referral.as_ref().unwrap();
    assert_eq!(referral.code.as_deref(), Some("spring-sale"));
    assert_eq!(
        referral.details.as_ref().unwrap().ad_id.as_deref(),
        Some("4216212847577")
    );
}

#[test]
fn switchboard_offer_release_and_pass_failure_have_their_metadata_and_reason() {
    let webhook = fields_examples_omit();
    let conversation = webhook.events[2].conversation().unwrap();
    assert_eq!(
        conversation
            .pending_switchboard_integration
            .as_ref()
            .unwrap()
            .name
            .as_deref(),
        Some("human")
    );
    let Event::SwitchboardOfferControl(offer) = &webhook.events[2] else {
        panic!()
    };
    assert_eq!(
        offer.payload.as_ref().unwrap().metadata.as_ref().unwrap()["skill"],
        "billing"
    );
    let Event::SwitchboardReleaseControl(release) = &webhook.events[3] else {
        panic!()
    };
    assert_eq!(
        release.payload.as_ref().unwrap().reason,
        Some(SwitchboardReason::TicketClosed)
    );
    let Event::SwitchboardPassControlFailure(failure) = &webhook.events[4] else {
        panic!()
    };
    assert_eq!(
        failure.payload.as_ref().unwrap().metadata.as_ref().unwrap()["to"],
        "nobody"
    );
}

#[test]
fn user_merge_has_its_merged_conversations_clients_and_discarded_metadata() {
    let webhook = fields_examples_omit();
    let Event::UserMerge(merge) = &webhook.events[5] else {
        panic!()
    };
    let merge = merge.payload.as_ref().unwrap();
    assert_eq!(merge.reason, Some(MergeReason::ChannelLinking));
    let conversations = merge.merged_conversations.as_ref().unwrap();
    assert_eq!(
        conversations.discarded.as_ref().unwrap().id.as_deref(),
        Some("0bd7f9a3e1c2b4d5a6f70819")
    );
    let clients = merge.merged_clients.as_ref().unwrap();
    assert_eq!(
        clients.discarded.as_ref().unwrap().external_id.as_deref(),
        Some("+15140000000")
    );
    assert_eq!(
        merge.discarded_metadata.as_ref().unwrap()["notes"],
        "too long to keep"
    );
    assert_eq!(
        webhook.events[5].conversation_id(),
        Some("f52b01137aa6c250bc7251fa")
    );
}

#[test]
fn a_delivery_failure_has_several_external_messages() {
    let webhook = fields_examples_omit();
    let Event::ConversationMessageDeliveryFailure(delivery) = &webhook.events[6] else {
        panic!()
    };
    let delivery = delivery.payload.as_ref().unwrap();
    let ids: Vec<_> = delivery
        .external_messages
        .iter()
        .flatten()
        .filter_map(|m| m.id.as_deref())
        .collect();
    assert_eq!(ids, ["m_1", "m_2"]);
    assert_eq!(delivery.error.as_ref().unwrap().code.as_deref(), Some("blocked"));
}

#[test]
fn typing_stopped_by_the_business_names_no_user() {
    let webhook = fields_examples_omit();
    let Event::ConversationTyping(typing) = &webhook.events[7] else {
        panic!()
    };
    let activity = typing.payload.as_ref().unwrap().activity.as_ref().unwrap();
    assert_eq!(activity.kind, Some(ActivityType::TypingStop));
    assert_eq!(activity.author.as_ref().unwrap().kind, Some(AuthorType::Business));
    assert_eq!(webhook.events[7].user(), None);
}

#[test]
fn keys_in_any_order() {
    let name = "v2/written/key_order.json";
    let webhook = parse_v2(name);
    let Event::ConversationMessage(_) = &webhook.events[0] else {
        panic!("{:?}", webhook.events[0])
    };
    let message = webhook.events[0].message().unwrap();
    assert_eq!(message.text(), Some("Keys in another order"));
    assert!(
        matches!(&message.content.as_ref().unwrap().actions()[0], Action::Reply(r) if r.payload.as_deref() == Some("YES"))
    );
    assert_eq!(
        webhook.webhook.as_ref().unwrap().version,
        Some(WebhookVersion::V2)
    );
    // The same body with every object's keys sorted (so `events` before `type`, `type` last in
    // most objects) reads the same.
    let original: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let sorted = serde_json::to_vec(&original).unwrap();
    assert_eq!(parse_webhook(&sorted).unwrap().into_v2().unwrap(), webhook);
    assert_v2_round_trip(name, &webhook);
}
