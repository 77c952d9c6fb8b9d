//! The administration commands of the binary (`stats`, `dead-letters …`, `requeue`, `migrate`):
//! each works on the store while receivers run on it, and returns the text to print.

use std::fmt::Write as _;

use crate::describe;
use crate::store::{Accepted, Admin, Incoming};

/// The most dead letters `dead-letters list` shows (the newest).
pub const LIST_LIMIT: usize = 100;

/// `stats`: the deliveries waiting (in how many lanes, the oldest), done and set aside; the
/// bodies stored; the dead letters.
pub async fn stats(admin: &dyn Admin) -> Result<String, String> {
    let stats = admin.stats().await.map_err(|error| error.to_string())?;
    Ok(format!(
        "pending        {} deliveries in {} lanes\noldest pending {}\ndone           {}\n\
         set aside      {}\nwebhooks       {}\ndead letters   {} ({} not replayed)\n",
        stats.pending,
        stats.lanes_waiting,
        stats.oldest_pending.as_deref().unwrap_or("-"),
        stats.done,
        stats.failed,
        stats.webhooks,
        stats.dead_letters,
        stats.dead_letters_waiting,
    ))
}

/// `dead-letters list`: the newest [`LIST_LIMIT`] dead letters, one a line.
pub async fn list(admin: &dyn Admin) -> Result<String, String> {
    let letters = admin
        .dead_letters(LIST_LIMIT)
        .await
        .map_err(|error| error.to_string())?;
    let mut text = String::from("id\treceived_at\tstatus\tsize\treplayed_as\terror\n");
    for letter in &letters {
        let replayed = letter.replayed_as.map_or("-".to_owned(), |id| id.to_string());
        // The error may quote the body: one line, control characters escaped.
        let error: String = letter.error.escape_debug().collect();
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}\t{replayed}\t{error}",
            letter.id, letter.received_at, letter.status, letter.size
        );
    }
    if letters.len() == LIST_LIMIT {
        let _ = writeln!(text, "(the newest {LIST_LIMIT}; `stats` counts them all)");
    }
    Ok(text)
}

/// `dead-letters show ID`: what is known of it (for standard error), and its body as received.
pub async fn show(admin: &dyn Admin, id: i64) -> Result<(String, Vec<u8>), String> {
    let letter = admin
        .dead_letter(id)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("no dead letter {id}"))?;
    let kept = if letter.is_whole() {
        "whole".to_owned()
    } else {
        format!("its first {} bytes", letter.body.len())
    };
    let about = format!(
        "dead letter {}: received {}, answered {}, {} bytes ({kept} kept){}\nerror: {}\n",
        letter.id,
        letter.received_at,
        letter.status,
        letter.size,
        letter.replayed_as.map_or(String::new(), |webhook| format!(
            ", replayed as webhook {webhook}"
        )),
        letter.error.escape_debug(),
    );
    Ok((about, letter.body))
}

/// `dead-letters replay ID`: parses the body again with this receiver's crate; if it now parses,
/// stores it as a webhook (once) and marks the dead letter replayed.
pub async fn replay(admin: &dyn Admin, id: i64) -> Result<String, String> {
    let letter = admin
        .dead_letter(id)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("no dead letter {id}"))?;
    if let Some(webhook) = letter.replayed_as {
        return Err(format!(
            "dead letter {id} was replayed before, as webhook {webhook}"
        ));
    }
    if !letter.is_whole() {
        return Err(format!(
            "dead letter {id} kept only the first {} of its {} bytes: it cannot be replayed",
            letter.body.len(),
            letter.size
        ));
    }
    let description = describe::describe(&letter.body).map_err(|refusal| {
        format!(
            "dead letter {id} still does not parse ({}): {}",
            refusal.path.as_deref().unwrap_or("-"),
            refusal.error.escape_debug()
        )
    })?;
    let webhook = Incoming {
        key: description.key,
        received_at: letter.received_at,
        kinds: description.kinds,
        app_id: description.app_id,
        body: letter.body,
        events: description.events,
        reservation: crate::store::Reservation::none(),
    };
    match admin
        .replay(id, webhook)
        .await
        .map_err(|error| error.to_string())?
    {
        Accepted::New(webhook) => Ok(format!("dead letter {id} replayed as webhook {webhook}\n")),
        Accepted::Duplicate(webhook) => Ok(format!(
            "dead letter {id} replayed: the same body was stored before, as webhook {webhook}\n"
        )),
    }
}

/// `requeue`: the deliveries set aside (all, or those of one lane) go back to the application.
pub async fn requeue(admin: &dyn Admin, lane: Option<String>) -> Result<String, String> {
    let count = admin.requeue(lane).await.map_err(|error| error.to_string())?;
    Ok(format!(
        "{count} delivery(ies) set aside are pending again; running receivers take them within a second\n"
    ))
}

/// `migrate`: the store's migrations, applied.
pub async fn migrate(admin: &dyn Admin) -> Result<String, String> {
    let version = admin.migrate().await.map_err(|error| error.to_string())?;
    Ok(format!("the store is at schema version {version}\n"))
}
