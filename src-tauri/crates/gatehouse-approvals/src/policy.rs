//! The policy: what a call to a tool gets before anyone is asked.
//!
//! The user's rule wins, then a changed definition (which always asks), then
//! "always allow", then a default from the tool's annotations. Annotations
//! come from the server, which Gatehouse does not trust, so they only pick a
//! default the user can override per tool.

use gatehouse_config::Rule;
use gatehouse_supervisor::ToolInfo;
use serde_json::Value;

/// Why the policy said what it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The user's rule for this tool.
    UserRule,
    /// "Always allow", chosen when a call to this tool was approved.
    AlwaysAllow,
    /// The tool says it is read-only.
    ReadOnly,
    /// The tool says it is not destructive (but not read-only).
    NotDestructive,
    /// The tool says it is destructive.
    Destructive,
    /// The tool does not say it is read-only or harmless.
    Unannotated,
    /// The setting that asks before every call that is not read-only.
    NotReadOnly,
    /// The tool's definition changed since it was pinned.
    Changed,
}

impl Reason {
    /// A short label for lists ("read-only", "your rule").
    pub fn label(self) -> &'static str {
        match self {
            Reason::UserRule => "your rule",
            Reason::AlwaysAllow => "always allowed",
            Reason::ReadOnly => "read-only",
            Reason::NotDestructive => "not destructive",
            Reason::Destructive => "destructive",
            Reason::Unannotated => "no annotations",
            Reason::NotReadOnly => "not read-only",
            Reason::Changed => "definition changed",
        }
    }

    /// The sentence the approval dialog shows for an ask with this reason.
    pub fn sentence(self, tool: &str) -> String {
        match self {
            Reason::UserRule => format!("Your rule for `{tool}` is to ask every time."),
            Reason::AlwaysAllow | Reason::ReadOnly | Reason::NotDestructive => {
                format!("`{tool}` is allowed.")
            }
            Reason::Destructive => format!("`{tool}` is marked destructive."),
            Reason::Unannotated => format!(
                "`{tool}` does not say it is read-only or harmless, so it may change or delete things."
            ),
            Reason::NotReadOnly => {
                format!("`{tool}` is not read-only, and your settings ask before every such call.")
            }
            Reason::Changed => format!(
                "`{tool}`'s definition changed since Gatehouse last saw it approved: check what changed."
            ),
        }
    }
}

/// What the policy said about one tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Allow, ask or deny.
    pub rule: Rule,
    /// Why.
    pub reason: Reason,
}

/// What the pins say about the definition a call is made against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinState {
    /// The definition differs from the one last accepted.
    pub changed: bool,
    /// The user chose "always allow" (and the definition has not changed since).
    pub always_allow: bool,
}

/// The default for a tool without a rule of the user's, from its annotations.
pub fn default_verdict(tool: &ToolInfo, ask_non_read_only: bool) -> Verdict {
    let (rule, reason) = if tool.read_only {
        (Rule::Allow, Reason::ReadOnly)
    } else if tool.destructive {
        let marked = tool
            .annotations
            .as_ref()
            .and_then(|a| a.get("destructiveHint"))
            .and_then(Value::as_bool)
            == Some(true);
        let reason = if marked {
            Reason::Destructive
        } else {
            Reason::Unannotated
        };
        (Rule::Ask, reason)
    } else if ask_non_read_only {
        (Rule::Ask, Reason::NotReadOnly)
    } else {
        (Rule::Allow, Reason::NotDestructive)
    };
    Verdict { rule, reason }
}

/// The policy for a call to `tool`.
pub fn evaluate(
    rule: Option<Rule>,
    tool: &ToolInfo,
    ask_non_read_only: bool,
    pin: PinState,
) -> Verdict {
    match rule {
        Some(Rule::Deny) => Verdict {
            rule: Rule::Deny,
            reason: Reason::UserRule,
        },
        // A changed definition asks even where the user allowed the tool:
        // what they allowed is not what the server now offers.
        _ if pin.changed => Verdict {
            rule: Rule::Ask,
            reason: Reason::Changed,
        },
        Some(rule) => Verdict {
            rule,
            reason: Reason::UserRule,
        },
        None if pin.always_allow => Verdict {
            rule: Rule::Allow,
            reason: Reason::AlwaysAllow,
        },
        None => default_verdict(tool, ask_non_read_only),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    pub(crate) fn tool(annotations: Option<Value>) -> ToolInfo {
        let read_only = annotations
            .as_ref()
            .and_then(|a| a.get("readOnlyHint"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let destructive = !read_only
            && annotations
                .as_ref()
                .and_then(|a| a.get("destructiveHint"))
                .and_then(Value::as_bool)
                .unwrap_or(true);
        ToolInfo {
            name: "t".into(),
            title: None,
            description: None,
            read_only,
            destructive,
            input_schema: json!({"type": "object"}),
            annotations: annotations.clone(),
            definition: json!({"name": "t", "annotations": annotations}),
        }
    }

    fn verdict(
        rule: Option<Rule>,
        annotations: Option<Value>,
        ask_all: bool,
        pin: PinState,
    ) -> (Rule, Reason) {
        let v = evaluate(rule, &tool(annotations), ask_all, pin);
        (v.rule, v.reason)
    }

    #[test]
    fn annotations_pick_the_default() {
        let none = PinState::default();
        assert_eq!(
            verdict(None, Some(json!({"readOnlyHint": true})), false, none),
            (Rule::Allow, Reason::ReadOnly)
        );
        assert_eq!(
            verdict(None, Some(json!({"destructiveHint": true})), false, none),
            (Rule::Ask, Reason::Destructive)
        );
        assert_eq!(
            verdict(None, Some(json!({"destructiveHint": false})), false, none),
            (Rule::Allow, Reason::NotDestructive)
        );
        assert_eq!(
            verdict(None, None, false, none),
            (Rule::Ask, Reason::Unannotated)
        );
        // The setting makes every call that is not read-only ask.
        assert_eq!(
            verdict(None, Some(json!({"destructiveHint": false})), true, none),
            (Rule::Ask, Reason::NotReadOnly)
        );
        assert_eq!(
            verdict(None, Some(json!({"readOnlyHint": true})), true, none),
            (Rule::Allow, Reason::ReadOnly)
        );
    }

    #[test]
    fn the_users_rule_overrides_annotations() {
        let none = PinState::default();
        let read_only = Some(json!({"readOnlyHint": true}));
        assert_eq!(
            verdict(Some(Rule::Deny), read_only.clone(), false, none),
            (Rule::Deny, Reason::UserRule)
        );
        assert_eq!(
            verdict(Some(Rule::Ask), read_only, false, none),
            (Rule::Ask, Reason::UserRule)
        );
        assert_eq!(
            verdict(
                Some(Rule::Allow),
                Some(json!({"destructiveHint": true})),
                true,
                none
            ),
            (Rule::Allow, Reason::UserRule)
        );
    }

    #[test]
    fn always_allow_applies_without_a_rule_and_a_change_suspends_everything_but_deny() {
        let destructive = Some(json!({"destructiveHint": true}));
        let always = PinState {
            changed: false,
            always_allow: true,
        };
        assert_eq!(
            verdict(None, destructive.clone(), false, always),
            (Rule::Allow, Reason::AlwaysAllow)
        );
        // The user's explicit ask beats an earlier "always allow".
        assert_eq!(
            verdict(Some(Rule::Ask), destructive.clone(), false, always),
            (Rule::Ask, Reason::UserRule)
        );
        let changed = PinState {
            changed: true,
            always_allow: true,
        };
        assert_eq!(
            verdict(None, destructive.clone(), false, changed),
            (Rule::Ask, Reason::Changed)
        );
        assert_eq!(
            verdict(Some(Rule::Allow), destructive.clone(), false, changed),
            (Rule::Ask, Reason::Changed)
        );
        assert_eq!(
            verdict(None, Some(json!({"readOnlyHint": true})), false, changed),
            (Rule::Ask, Reason::Changed)
        );
        assert_eq!(
            verdict(Some(Rule::Deny), destructive, false, changed),
            (Rule::Deny, Reason::UserRule)
        );
    }
}
