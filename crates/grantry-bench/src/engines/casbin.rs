//! casbin in its fairest encoding: RBAC with domains, where a domain is a node of the scope tree
//! (`s:` the organization, `s:NODE` below it). Users hold roles in domains (`g`); each role's
//! permissions are policies in the domains where someone holds it; a temporary grant is a policy
//! of the user itself with its end; API keys' scope grants are policies of the key. casbin has no
//! hierarchy of domains, so a trace check asks each node above the trace, nearest last. Instants
//! are fixed-width decimal strings, so the matcher's string comparison orders them.

use super::Engine;
use crate::workload::{Target, Who, Workload};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use grantry_core::catalogue::{perm, Catalogue};
use std::collections::BTreeSet;

const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act, now

[policy_definition]
p = sub, dom, obj, act, until

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act && r.now < p.until
"#;

const FOREVER: &str = "99999999999999999999";

fn instant(us: i64) -> String {
    format!("{us:020}")
}

/// What a permission's policies apply to: a class of trace, or the organization.
fn object(permission: &str) -> &'static str {
    match permission {
        perm::TRACES_READ => "trace:nonprod",
        perm::TRACES_READ_PROD => "trace:prod",
        _ => "org",
    }
}

fn domain(w: &Workload, node: Option<usize>) -> String {
    format!("s:{}", node.map_or("", |n| w.nodes[n].id.as_str()))
}

pub struct Casbin {
    enforcer: Enforcer,
}

impl Casbin {
    pub fn build(w: &Workload) -> anyhow::Result<Self> {
        let cat = Catalogue::builtin();
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        runtime.block_on(async {
            let model = DefaultModel::from_str(MODEL).await?;
            let mut enforcer = Enforcer::new(model, MemoryAdapter::default()).await?;
            let mut policies: BTreeSet<Vec<String>> = BTreeSet::new();
            let mut groupings = Vec::with_capacity(w.roles.len());
            for r in &w.roles {
                let dom = domain(w, r.at);
                groupings.push(vec![w.users[r.user].clone(), r.role.to_owned(), dom.clone()]);
                for g in &cat.role(r.role)?.grants {
                    policies.insert(vec![
                        r.role.to_owned(),
                        dom.clone(),
                        object(&g.permission).to_owned(),
                        g.permission.clone(),
                        FOREVER.to_owned(),
                    ]);
                }
            }
            let mut rows: Vec<Vec<String>> = policies.into_iter().collect();
            for t in &w.temps {
                let obj = format!("conv:{}", w.users[t.owner]);
                rows.push(vec![w.users[t.user].clone(), domain(w, None), obj, t.permission.to_owned(), instant(t.ends)]);
            }
            for k in &w.keys {
                for p in &k.permissions {
                    rows.push(vec![k.id.clone(), domain(w, Some(k.project)), object(p).to_owned(), (*p).to_owned(), FOREVER.to_owned()]);
                }
            }
            enforcer.add_policies(rows).await?;
            enforcer.add_grouping_policies(groupings).await?;
            Ok(Self { enforcer })
        })
    }
}

/// One check: the requests to try, any allowed allows.
pub struct Prepared {
    requests: Vec<(String, String, String, String, String)>,
}

impl Engine for Casbin {
    type Prepared = Prepared;

    fn name(&self) -> &'static str {
        "casbin"
    }

    fn prepare(&self, w: &Workload, q: &crate::workload::Query) -> Prepared {
        let sub = match q.who {
            Who::User(u) => w.users[u].clone(),
            Who::Key(k) => w.keys[k].id.clone(),
        };
        let now = instant(q.at);
        let act = q.permission.to_owned();
        let requests = match q.target {
            Target::Conversation(owner) => vec![(sub, domain(w, None), format!("conv:{}", w.users[owner]), act, now)],
            Target::Trace(t) => {
                let class = if w.nodes[w.traces[t].env].is_prod { "trace:prod" } else { "trace:nonprod" };
                let mut doms = vec![domain(w, None)];
                doms.extend(w.chain(w.traces[t].env).into_iter().rev().map(|n| domain(w, Some(n))));
                doms.into_iter().map(|d| (sub.clone(), d, class.to_owned(), act.clone(), now.clone())).collect()
            }
            // Agents and pools are not encoded here: their checks run on Grantry alone.
            Target::Agent(_) | Target::Pool(_) => vec![],
        };
        Prepared { requests }
    }

    fn check(&self, p: &Prepared) -> bool {
        p.requests.iter().any(|r| self.enforcer.enforce(r.clone()).unwrap_or(false))
    }
}
