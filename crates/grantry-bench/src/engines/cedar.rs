//! cedar-policy in its fairest encoding: a small fixed policy set (one policy per permission), the
//! permissions each principal holds at each scope node as a tag of the principal (`s:NODE` → the
//! set of permission names, roles expanded once), and each temporary conversation grant as a tag
//! keyed by the owner (`t:OWNER` → the end of the grant of each permission), tested against
//! `context.now`. A policy per grant would be the literal encoding (measured 10,000 times slower
//! when the issue was written; not run here).

use super::Engine;
use crate::workload::{Target, Who, Workload};
use anyhow::Context as _;
use cedar_policy::{Authorizer, Context, Decision, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression};
use grantry_core::catalogue::{Catalogue, CONVERSATION_ACCESS};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;

const POLICIES: &str = r#"
permit(principal, action == Action::"Conversation:GetConversation", resource is Conversation)
when { resource.org_id == "bench" && principal.hasTag(resource.key) && principal.getTag(resource.key).get > context.now };
permit(principal, action == Action::"Conversation:GetMessage", resource is Conversation)
when { resource.org_id == "bench" && principal.hasTag(resource.key) && principal.getTag(resource.key).msg > context.now };
permit(principal, action == Action::"Conversation:GetInteractionInsights", resource is Conversation)
when { resource.org_id == "bench" && principal.hasTag(resource.key) && principal.getTag(resource.key).ins > context.now };
permit(principal, action == Action::"traces:read", resource is Trace)
when { resource.is_prod == false && (
  (principal.hasTag("s:") && principal.getTag("s:").contains("traces:read")) ||
  (principal.hasTag(resource.ws) && principal.getTag(resource.ws).contains("traces:read")) ||
  (principal.hasTag(resource.prj) && principal.getTag(resource.prj).contains("traces:read")) ||
  (principal.hasTag(resource.env) && principal.getTag(resource.env).contains("traces:read"))) };
permit(principal, action == Action::"traces:read:prod", resource is Trace)
when { resource.is_prod == true && (
  (principal.hasTag("s:") && principal.getTag("s:").contains("traces:read:prod")) ||
  (principal.hasTag(resource.ws) && principal.getTag(resource.ws).contains("traces:read:prod")) ||
  (principal.hasTag(resource.prj) && principal.getTag(resource.prj).contains("traces:read:prod")) ||
  (principal.hasTag(resource.env) && principal.getTag(resource.env).contains("traces:read:prod"))) };
"#;

pub struct Cedar {
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

fn uid(kind: &str, id: &str) -> anyhow::Result<EntityUid> {
    EntityUid::from_str(&format!("{kind}::{id:?}")).with_context(|| format!("entity {kind}::{id}"))
}

fn node_tag(w: &Workload, node: Option<usize>) -> String {
    format!("s:{}", node.map_or("", |n| w.nodes[n].id.as_str()))
}

impl Cedar {
    pub fn build(w: &Workload) -> anyhow::Result<Self> {
        let cat = Catalogue::builtin();
        let mut entities = Vec::with_capacity(w.users.len() * 2 + w.traces.len());
        // Scope tags: permission names held at each node.
        let mut scoped: HashMap<Who, BTreeMap<String, BTreeSet<&str>>> = HashMap::new();
        for r in &w.roles {
            let held = scoped.entry(Who::User(r.user)).or_default().entry(node_tag(w, r.at)).or_default();
            held.extend(cat.role(r.role)?.grants.iter().map(|g| g.permission.as_str()));
        }
        for (k, key) in w.keys.iter().enumerate() {
            scoped
                .entry(Who::Key(k))
                .or_default()
                .entry(node_tag(w, Some(key.project)))
                .or_default()
                .extend(key.permissions.iter().copied());
        }
        // Temporary tags: per owner, the latest end of each conversation permission (all start at T0).
        let mut temps: HashMap<usize, BTreeMap<usize, [i64; 3]>> = HashMap::new();
        for t in &w.temps {
            let ends = temps.entry(t.user).or_default().entry(t.owner).or_insert([0; 3]);
            let i = CONVERSATION_ACCESS.iter().position(|p| *p == t.permission).unwrap_or(0);
            ends[i] = ends[i].max(t.ends);
        }
        let tags_of = |who: Who| -> anyhow::Result<Vec<(String, RestrictedExpression)>> {
            let mut tags = Vec::new();
            for (node, perms) in scoped.get(&who).into_iter().flatten() {
                let set = RestrictedExpression::new_set(perms.iter().map(|p| RestrictedExpression::new_string((*p).to_owned())));
                tags.push((node.clone(), set));
            }
            if let Who::User(u) = who {
                for (owner, ends) in temps.get(&u).into_iter().flatten() {
                    let record = RestrictedExpression::new_record([
                        ("get".to_owned(), RestrictedExpression::new_long(ends[0])),
                        ("msg".to_owned(), RestrictedExpression::new_long(ends[1])),
                        ("ins".to_owned(), RestrictedExpression::new_long(ends[2])),
                    ])?;
                    tags.push((format!("t:{}", w.users[*owner]), record));
                }
            }
            Ok(tags)
        };
        for (u, id) in w.users.iter().enumerate() {
            entities.push(Entity::new_with_tags(uid("User", id)?, HashMap::new(), HashSet::new(), tags_of(Who::User(u))?)?);
            let attrs = HashMap::from([
                ("org_id".to_owned(), RestrictedExpression::new_string(w.org.clone())),
                ("key".to_owned(), RestrictedExpression::new_string(format!("t:{id}"))),
            ]);
            entities.push(Entity::new(uid("Conversation", &w.conversation(u))?, attrs, HashSet::new())?);
        }
        for (k, key) in w.keys.iter().enumerate() {
            entities.push(Entity::new_with_tags(uid("ApiKey", &key.id)?, HashMap::new(), HashSet::new(), tags_of(Who::Key(k))?)?);
        }
        for t in &w.traces {
            let chain = w.chain(t.env);
            let [env, prj, ws] = [chain[0], chain[1], chain[2]];
            let attrs = HashMap::from([
                ("is_prod".to_owned(), RestrictedExpression::new_bool(w.nodes[t.env].is_prod)),
                ("ws".to_owned(), RestrictedExpression::new_string(node_tag(w, Some(ws)))),
                ("prj".to_owned(), RestrictedExpression::new_string(node_tag(w, Some(prj)))),
                ("env".to_owned(), RestrictedExpression::new_string(node_tag(w, Some(env)))),
            ]);
            entities.push(Entity::new(uid("Trace", &t.id)?, attrs, HashSet::new())?);
        }
        let entities = Entities::from_entities(entities, None)?;
        let policies = PolicySet::from_str(POLICIES)?;
        Ok(Self { policies, entities, authorizer: Authorizer::new() })
    }
}

impl Engine for Cedar {
    type Prepared = Option<Request>;

    fn name(&self) -> &'static str {
        "cedar"
    }

    fn prepare(&self, w: &Workload, q: &crate::workload::Query) -> Option<Request> {
        let principal = match q.who {
            Who::User(u) => uid("User", &w.users[u]),
            Who::Key(k) => uid("ApiKey", &w.keys[k].id),
        };
        let resource = match q.target {
            Target::Conversation(u) => uid("Conversation", &w.conversation(u)),
            Target::Trace(t) => uid("Trace", &w.traces[t].id),
            // Agents and pools are not encoded here (no policy names them): their checks run on Grantry alone.
            Target::Agent(a) => uid("Agent", &w.agents.agents[a].id),
            Target::Pool(p) => uid("AgentPool", &w.jit.pools[p]),
        };
        let context = Context::from_pairs([("now".to_owned(), RestrictedExpression::new_long(q.at))]).ok()?;
        Request::new(principal.ok()?, uid("Action", q.permission).ok()?, resource.ok()?, context, None).ok()
    }

    fn check(&self, p: &Option<Request>) -> bool {
        p.as_ref().is_some_and(|r| self.authorizer.is_authorized(r, &self.policies, &self.entities).decision() == Decision::Allow)
    }
}
