//! `serve --demo`: an organization `demo` with an owner, a member and conversations, and the
//! commands to try against it. Running it again reuses what is there and issues fresh tokens.

use anyhow::Result;
use grantry_core::catalogue::{self, role};
use grantry_core::decision::ResourceQuery;
use grantry_core::model::{Principal, ResourceRef};
use grantry_server::service::{self, conversation_url_path, Ctx, CONVERSATION};
use grantry_server::{clock, AppState};

const ORG: &str = "demo";

pub async fn seed(state: &AppState, url: &str) -> Result<()> {
    let owner = service::bootstrap(state, ORG, "owner@demo.example", clock::now()).await?;
    let ctx = Ctx::new(owner.org_id.clone(), Principal::User(owner.user_id.clone()), None, clock::now());
    let mut users = Vec::new();
    for email in ["alice@demo.example", "bob@demo.example"] {
        let existing = state.index().org(&owner.org_id).and_then(|o| o.user_by_email(email).map(|u| u.id.clone()));
        let id = match existing {
            Some(id) => id,
            None => service::create_user(state, &ctx, email, role::ORG_MEMBER, false).await?.1.id,
        };
        users.push(id);
    }
    let (alice, bob) = (&users[0], &users[1]);
    // Alice's token is hers, made as her: whatever she was granted since the last run, nobody else
    // may mint a token that carries it.
    let as_alice = Ctx::new(owner.org_id.clone(), Principal::User(alice.clone()), None, clock::now());
    let (_, alice_token) = service::issue_token(state, &as_alice, alice, Some(grantry_core::SignedDuration::from_hours(24))).await?;
    let mut conversations: Vec<String> = state
        .index()
        .org(&owner.org_id)
        .map(|o| o.resources_of(CONVERSATION).iter().map(|r| r.reference.id.clone()).collect())
        .unwrap_or_default();
    while conversations.len() < 2 {
        conversations.push(service::register_conversation(state, &ctx, bob, None).await?.1.reference.id);
    }
    let conv_url = format!("{url}{}", conversation_url_path(ORG, &conversations[0]));
    // What the first check answers now: on a second run, alice may still hold the access she
    // asked for on the first.
    let reading = ResourceQuery { reference: ResourceRef::new(CONVERSATION, conversations[0].as_str()), attributes: Default::default() };
    let allowed = state
        .index()
        .org(&owner.org_id)
        .is_some_and(|o| o.check(&Principal::User(alice.clone()), catalogue::perm::CONVERSATION_GET_MESSAGE, &reading, clock::now()));
    let first = if allowed { "allowed: alice still holds access from an earlier run" } else { "denied (exit 3)" };
    crate::say!("Demo organization `{ORG}` is ready.");
    crate::say!("  owner  owner@demo.example  token {}", owner.token);
    crate::say!("  member alice@demo.example  token {}", alice_token.secret);
    for c in &conversations {
        crate::say!("  conversation {c} (owned by bob@demo.example)");
    }
    crate::say!();
    crate::say!("Try, as alice:");
    crate::say!("  grantry login --env demo --url {url} --org {ORG} --token {}", alice_token.secret);
    crate::say!("  grantry check -e demo --permission Conversation:GetMessage --resource conversation:{}   # {first}", conversations[0]);
    crate::say!("  grantry conversation request-access {conv_url} -j \"Debugging reported issue #42\"");
    crate::say!("  grantry check -e demo --permission Conversation:GetMessage --resource conversation:{}   # allowed", conversations[0]);
    crate::say!("  grantry conversation list-access -e demo");
    crate::say!();
    Ok(())
}
