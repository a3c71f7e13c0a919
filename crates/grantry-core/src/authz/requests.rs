//! Who may decide an access request, and what approving one may hand out. Nobody decides their
//! own request, nor approves one twice. A stage that names no approvers is decided by whoever may
//! approve requests where every target is (`AccessRequest:Approve`) and holds, for good, what is
//! asked there; a stage that names roles or groups is decided by their holders (for good) and
//! members — and, once it has been open for its escalation time, by the escalation's. Whatever
//! the approvers, approval hands out only what the policy's author holds for good at each
//! target, so delegating approval never widens anyone's authority. Decisions are made only with a
//! credential of one's own: an admin who minted a token for a peer must not approve as that peer
//! (the two-person rule would be one person), so a minted token is first exchanged for one the
//! user alone has seen.

use super::rules::{held_permanently, require_at, require_covers, require_on};
use crate::catalogue::{perm, Catalogue};
use crate::error::{CoreError, Result};
use crate::index::OrgState;
use crate::model::{AccessRequest, Anchor, Approvers, Principal, Requested, Resource, ScopeRef, Stage};
use jiff::Timestamp;

/// The permissions `requested` carries.
fn names<'a>(cat: &'a Catalogue, requested: &'a Requested) -> Result<Vec<&'a str>> {
    Ok(match requested {
        Requested::Role(r) => cat.role(r)?.permission_names().into_iter().collect(),
        Requested::Permissions(p) => p.iter().map(String::as_str).collect(),
    })
}

/// The registered resource a target names.
fn resource(o: &OrgState, target: &Anchor) -> Result<Option<Resource>> {
    match target {
        Anchor::Scope(_) => Ok(None),
        Anchor::Resource(r) => {
            o.resource(r).map(Some).ok_or_else(|| CoreError::NotFound(format!("resource `{r}` is not registered; register it first")))
        }
    }
}

/// Where in the scope tree a target is: its node, or the node its resource hangs from.
pub fn place(o: &OrgState, target: &Anchor) -> ScopeRef {
    match target {
        Anchor::Scope(s) => s.clone(),
        Anchor::Resource(r) => o.resource(r).map_or(ScopeRef::Org, |r| r.scope),
    }
}

/// Requires that `actor` holds for good everything `requested` carries at every target.
pub(super) fn require_hands_out(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    requested: &Requested,
    targets: &[Anchor],
    now: Timestamp,
) -> Result<()> {
    let perms = names(cat, requested)?;
    // Production-trace access comes from org_admin or higher, whatever the target (a trace too).
    if perms.contains(&perm::TRACES_READ_PROD) {
        super::rules::require_prod_grantor(o, cat, actor, &requested.describe(), now)?;
    }
    for target in targets {
        match (target, resource(o, target)?) {
            (_, Some(r)) => perms.iter().try_for_each(|p| require_on(o, actor, &r, p, true, now))?,
            (Anchor::Scope(s), None) => require_covers(o, cat, actor, &requested.describe(), perms.iter().copied(), s, now)?,
            (Anchor::Resource(_), None) => {}
        }
    }
    Ok(())
}

/// Whether `actor` is among `approvers` for every target of `request`.
fn among(o: &OrgState, cat: &Catalogue, actor: &Principal, approvers: &Approvers, request: &AccessRequest, now: Timestamp) -> bool {
    let in_group = || {
        let mine = o.groups_through(actor, now);
        approvers.groups.iter().any(|g| mine.iter().any(|(id, for_good)| id == g && *for_good))
    };
    let holds_role = |role: &String| {
        let Some(role) = cat.find_role(role) else { return false };
        let perms = role.permission_names();
        request.targets.iter().all(|t| match resource(o, t).ok().flatten() {
            Some(r) => perms.iter().all(|p| require_on(o, actor, &r, p, true, now).is_ok()),
            None => {
                let held = held_permanently(o, cat, actor, &place(o, t), now);
                perms.iter().all(|p| held.contains(*p))
            }
        })
    };
    in_group() || approvers.roles.iter().any(holds_role)
}

/// Who a stage's approvers are, in words.
pub fn describe_approvers(approvers: &Approvers, o: &OrgState) -> String {
    if approvers.is_default() {
        return "whoever may approve requests there and holds the access for good".to_owned();
    }
    let mut who: Vec<String> = approvers.roles.iter().map(|r| format!("holders of role `{r}`")).collect();
    who.extend(approvers.groups.iter().map(|g| {
        let name = o.group(g).map_or_else(|| g.to_string(), |g| g.name.clone());
        format!("members of group `{name}`")
    }));
    who.join(" or ")
}

/// Refuses a credential that someone other than its principal minted (`made_by`).
pub(super) fn own_token(o: &OrgState, made_by: Option<&Principal>) -> Result<()> {
    let Some(by) = made_by else { return Ok(()) };
    let who = match by {
        Principal::User(id) => o.user(id).map_or_else(|| by.to_string(), |u| u.email.clone()),
        _ => by.to_string(),
    };
    Err(CoreError::Forbidden(format!(
        "this token was made for you by {who}, so they could decide as you; access requests are decided only with a \
         token of your own: exchange it first (`grantry token exchange`, or POST /v1/{{org}}/tokens/exchange), which \
         gives you a new one and revokes this one"
    )))
}

/// Refuses a decision that would count twice for one person: an approval counts for the approver
/// and for whoever holds custody of their token's lineage (minted a token exchanged on the way to
/// it), so it must not count for the requester, nor for anyone behind an approval already given
/// in this round — else one admin could approve their own request, or two stages, through an
/// account whose first token they held.
pub(super) fn apart(o: &OrgState, actor: &Principal, custody: &[Principal], request: &AccessRequest) -> Result<()> {
    let email = |p: &Principal| match p {
        Principal::User(id) => o.user(id).map_or_else(|| p.to_string(), |u| u.email.clone()),
        _ => p.to_string(),
    };
    let requester = Principal::User(request.requester.clone());
    if let Some(by) = custody.iter().find(|p| **p == requester) {
        return Err(CoreError::Forbidden(format!(
            "your token comes from one {} minted, and it is their request: an approval counts for whoever could have given it; \
             ask another approver",
            email(by)
        )));
    }
    for a in request.round_approvals() {
        let earlier = Principal::User(a.by.clone());
        let shared = custody.iter().find(|p| **p == earlier).or_else(|| a.custody.iter().find(|p| *p == actor));
        if let Some(by) = shared {
            return Err(CoreError::Forbidden(format!(
                "{} already approved this request, and one of you holds a token that comes from one {} minted: an \
                 approval counts for whoever could have given it, so it would count twice for them; ask another approver",
                email(&earlier),
                email(by)
            )));
        }
    }
    Ok(())
}

/// Decides whether `actor` may approve or deny stage `stage` of `request`.
pub(super) fn may_decide(
    o: &OrgState,
    cat: &Catalogue,
    actor: &Principal,
    request: &AccessRequest,
    stage: usize,
    now: Timestamp,
) -> Result<()> {
    let Principal::User(me) = actor else {
        return Err(CoreError::Forbidden("access requests are decided by people; use a user's token, not an API key".to_owned()));
    };
    if me == &request.requester {
        return Err(CoreError::Forbidden("nobody approves or denies their own request; ask an approver, or cancel it".to_owned()));
    }
    if request.approved_by(me) {
        return Err(CoreError::Conflict("you have already approved this request; another approver must decide the rest".to_owned()));
    }
    let Some(s): Option<&Stage> = request.stages.get(stage) else {
        return Err(CoreError::Conflict("this request has no stage left to decide".to_owned()));
    };
    if s.approvers.is_default() {
        for target in &request.targets {
            require_at(o, cat, actor, perm::ACCESS_REQUEST_APPROVE, &place(o, target), now)?;
        }
        return require_hands_out(o, cat, actor, &request.requested, &request.targets, now);
    }
    if among(o, cat, actor, &s.approvers, request, now) {
        return Ok(());
    }
    let escalated = s.escalate_after.is_some_and(|after| request.stage_opened_at(stage).checked_add(after).is_ok_and(|at| now >= at));
    if escalated && !s.escalation.is_default() && among(o, cat, actor, &s.escalation, request, now) {
        return Ok(());
    }
    let mut who = describe_approvers(&s.approvers, o);
    if !s.escalation.is_default() {
        who = format!(
            "{who} (after {}, also {})",
            s.escalate_after.map(crate::duration::format_iso).unwrap_or_default(),
            describe_approvers(&s.escalation, o)
        );
    }
    Err(CoreError::Forbidden(format!("stage `{}` of this request is decided by {who}, for every target; you are not one of them", s.name)))
}
