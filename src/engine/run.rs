//! Token semantics of the BPMN subset the core runs: where the paths of an instance go when
//! it starts or when something waiting moves on. Pure: a definition, the current tokens and
//! the variables in, the new tokens and what happened on the way out.
//!
//! - Start events, plain/service/script tasks and diverging gateways are passed through.
//! - User and receive tasks are wait states: a token stays there.
//! - An exclusive gateway takes the first outgoing flow (document order) whose condition
//!   holds, a flow without condition counting as true, else its default flow, else fails.
//! - A parallel gateway forks on every outgoing flow; with several incoming flows it first
//!   joins: arriving tokens wait at it until one has come in on each incoming flow.
//! - Any other activity takes every outgoing flow whose condition holds (and its default
//!   flow when none does); with no outgoing flow the path ends there.
//! - An end event consumes its token. The instance ends when no token is left.

use std::collections::VecDeque;

use bpm_compat_model::{
    ActivityKind, ActivityRecord, ProcessDefinition, SequenceFlow, Task, Timestamp, Variables,
};

use super::expr::{Expr, ExprError};

/// More activities than this entered in one step is a loop of pass-through activities.
const STEP_LIMIT: usize = 10_000;

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Advance {
    /// Every activity a path waits at after the step, in arrival order.
    pub tokens: Vec<String>,
    /// User tasks entered (activity ids, in order): each needs a new task.
    pub new_tasks: Vec<String>,
    /// Where the last path ended, when no token is left.
    pub end_activity: Option<String>,
    /// Every activity entered and sequence flow taken, in order (a parallel join once, when
    /// it fires).
    pub trail: Vec<String>,
}

impl Advance {
    pub fn ended(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The history of the step: one record per activity entered, keyed `<revision>.<n>`;
    /// wait states stay open. Each new task gets the key of its activity's record.
    pub fn records(
        &self,
        definition: &ProcessDefinition,
        revision: u64,
        now: Timestamp,
        new_tasks: &mut [Task],
    ) -> Vec<ActivityRecord> {
        let mut tasks = new_tasks.iter_mut();
        self.trail
            .iter()
            .enumerate()
            .map(|(n, id)| {
                // Without `format!`: this runs for every activity a step passes.
                let key = [
                    itoa::Buffer::new().format(revision),
                    ".",
                    itoa::Buffer::new().format(n),
                ]
                .concat();
                let waits = definition.activity(id).is_some_and(|a| a.kind.is_wait_state());
                if definition
                    .activity(id)
                    .is_some_and(|a| a.kind == ActivityKind::UserTask)
                {
                    if let Some(t) = tasks.next() {
                        t.activity_instance = Some(key.clone());
                    }
                }
                ActivityRecord {
                    key,
                    activity_id: id.clone(),
                    start_time: now,
                    end_time: (!waits).then_some(now),
                    logged: None,
                }
            })
            .collect()
    }

    /// The activity to show as "the" current one: the first token that is a wait state (not
    /// a join waiting for its other paths).
    pub fn current_activity(&self, definition: &ProcessDefinition) -> Option<String> {
        self.tokens
            .iter()
            .find(|t| definition.activity(t).is_some_and(|a| a.kind.is_wait_state()))
            .or(self.tokens.first())
            .cloned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    #[error(
        "No outgoing sequence flow of the exclusive gateway '{0}' could be selected for continuing the process"
    )]
    NoOutgoingFlow(String),
    #[error(transparent)]
    Expression(#[from] ExprError),
    #[error("activity '{0}' is not part of the process definition")]
    UnknownActivity(String),
    #[error("no token waits at activity '{0}'")]
    NotWaiting(String),
    #[error("the process loops without waiting (more than {STEP_LIMIT} activities in one step, last '{0}')")]
    Loop(String),
}

/// Starts a path at `start_event` with no other tokens.
pub fn start(
    definition: &ProcessDefinition,
    start_event: &str,
    variables: &Variables,
) -> Result<Advance, RunError> {
    let mut run = Run::new(definition, variables, Vec::new());
    run.queue.push_back(Move::Enter(start_event.to_owned()));
    run.drain()
}

/// Moves the token waiting at `activity` on: it leaves the activity along its outgoing flows.
pub fn leave(
    definition: &ProcessDefinition,
    tokens: &[String],
    activity: &str,
    variables: &Variables,
) -> Result<Advance, RunError> {
    let mut tokens = tokens.to_vec();
    let at = tokens
        .iter()
        .position(|t| t == activity)
        .ok_or_else(|| RunError::NotWaiting(activity.to_owned()))?;
    tokens.remove(at);
    let mut run = Run::new(definition, variables, tokens);
    run.queue.push_back(Move::Leave(activity.to_owned()));
    run.drain()
}

enum Move {
    Enter(String),
    Leave(String),
}

struct Run<'a> {
    definition: &'a ProcessDefinition,
    variables: &'a Variables,
    queue: VecDeque<Move>,
    out: Advance,
}

impl<'a> Run<'a> {
    fn new(definition: &'a ProcessDefinition, variables: &'a Variables, tokens: Vec<String>) -> Run<'a> {
        Run {
            definition,
            variables,
            queue: VecDeque::new(),
            out: Advance {
                tokens,
                ..Advance::default()
            },
        }
    }

    fn drain(mut self) -> Result<Advance, RunError> {
        let mut last_end = None;
        while let Some(m) = self.queue.pop_front() {
            match m {
                Move::Enter(id) => {
                    if self.out.trail.len() >= STEP_LIMIT {
                        return Err(RunError::Loop(id));
                    }
                    self.out.trail.push(id.clone());
                    if let Some(end) = self.enter(id)? {
                        last_end = Some(end);
                    }
                }
                Move::Leave(id) => {
                    if let Some(end) = self.leave(&id)? {
                        last_end = Some(end);
                    }
                }
            }
        }
        if self.out.tokens.is_empty() {
            self.out.end_activity = last_end;
        }
        Ok(self.out)
    }

    /// Enters an activity; answers the activity id when a path ended there.
    fn enter(&mut self, id: String) -> Result<Option<String>, RunError> {
        let activity = self
            .definition
            .activity(&id)
            .ok_or_else(|| RunError::UnknownActivity(id.clone()))?;
        match activity.kind {
            ActivityKind::UserTask => {
                self.out.new_tasks.push(id.clone());
                self.out.tokens.push(id);
            }
            ActivityKind::ReceiveTask => self.out.tokens.push(id),
            ActivityKind::EndEvent => return Ok(Some(id)),
            ActivityKind::ParallelGateway => {
                let incoming = self.definition.incoming_count(&id);
                if incoming > 1 {
                    let arrived = 1 + self.out.tokens.iter().filter(|t| **t == id).count();
                    if arrived < incoming {
                        // Parked, not passed: the join is recorded once, when it fires.
                        self.out.trail.pop();
                        self.out.tokens.push(id);
                        return Ok(None);
                    }
                    self.out.tokens.retain(|t| *t != id);
                }
                self.queue.push_back(Move::Leave(id));
            }
            ActivityKind::StartEvent { .. }
            | ActivityKind::ServiceTask
            | ActivityKind::ScriptTask
            | ActivityKind::Task
            | ActivityKind::ExclusiveGateway => self.queue.push_back(Move::Leave(id)),
        }
        Ok(None)
    }

    /// Takes the outgoing flows of an activity; answers its id when the path ends there.
    fn leave(&mut self, id: &str) -> Result<Option<String>, RunError> {
        let activity = self
            .definition
            .activity(id)
            .ok_or_else(|| RunError::UnknownActivity(id.to_owned()))?;
        let outgoing: Vec<&SequenceFlow> = self.definition.outgoing(id).collect();
        let default = activity.default_flow.as_deref();
        let chosen: Vec<&SequenceFlow> = match activity.kind {
            ActivityKind::ParallelGateway => outgoing,
            ActivityKind::ExclusiveGateway => {
                let mut pick = None;
                for f in outgoing.iter().filter(|f| Some(f.id.as_str()) != default) {
                    if self.holds(f)? {
                        pick = Some(*f);
                        break;
                    }
                }
                let pick = pick.or_else(|| outgoing.iter().copied().find(|f| Some(f.id.as_str()) == default));
                vec![pick.ok_or_else(|| RunError::NoOutgoingFlow(id.to_owned()))?]
            }
            _ => {
                let mut taken = Vec::new();
                for f in outgoing.iter().filter(|f| Some(f.id.as_str()) != default) {
                    if self.holds(f)? {
                        taken.push(*f);
                    }
                }
                if taken.is_empty() {
                    taken.extend(outgoing.iter().copied().find(|f| Some(f.id.as_str()) == default));
                }
                taken
            }
        };
        if chosen.is_empty() {
            return Ok(Some(id.to_owned()));
        }
        for f in chosen {
            // Flowable (6.5+) keeps the sequence flows taken in the activity history too.
            self.out.trail.push(f.id.clone());
            self.queue.push_back(Move::Enter(f.target.clone()));
        }
        Ok(None)
    }

    fn holds(&self, flow: &SequenceFlow) -> Result<bool, RunError> {
        let Some(condition) = &flow.condition else {
            return Ok(true);
        };
        let expr = Expr::parse(condition)?;
        let vars = self.variables;
        Ok(expr.eval_bool(&|name| vars.get(name).cloned())?)
    }
}

#[cfg(test)]
mod tests {
    use bpm_compat_model::{Activity, VariableValue};

    use super::*;

    fn def(activities: &[(&str, ActivityKind)], flows: &[(&str, &str, Option<&str>)]) -> ProcessDefinition {
        ProcessDefinition {
            id: "p:1:1".into(),
            key: "p".into(),
            version: 1,
            activities: activities
                .iter()
                .map(|(id, kind)| Activity::new(*id, kind.clone()))
                .collect(),
            flows: flows
                .iter()
                .enumerate()
                .map(|(i, (s, t, c))| SequenceFlow {
                    id: format!("f{}", i + 1),
                    source: (*s).into(),
                    target: (*t).into(),
                    condition: c.map(str::to_owned),
                })
                .collect(),
            ..ProcessDefinition::default()
        }
    }

    fn vars(pairs: &[(&str, VariableValue)]) -> Variables {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), v.clone())).collect()
    }

    use ActivityKind as K;

    /// start → gw → (amount > 100) approve | (else, default) auto → end
    fn approval() -> ProcessDefinition {
        let mut d = def(
            &[
                ("start", K::StartEvent { message: None }),
                ("gw", K::ExclusiveGateway),
                ("approve", K::UserTask),
                ("auto", K::ServiceTask),
                ("end", K::EndEvent),
            ],
            &[
                ("start", "gw", None),
                ("gw", "approve", Some("${amount > 100}")),
                ("gw", "auto", None),
                ("approve", "end", None),
                ("auto", "end", None),
            ],
        );
        d.activities[1].default_flow = Some("f3".into());
        d
    }

    #[test]
    fn exclusive_gateway_takes_the_first_true_condition_else_the_default() {
        let d = approval();
        let big = start(&d, "start", &vars(&[("amount", VariableValue::Long(500))])).expect("runs");
        assert_eq!(big.tokens, vec!["approve"]);
        assert_eq!(big.new_tasks, vec!["approve"]);
        assert_eq!(big.trail, vec!["start", "f1", "gw", "f2", "approve"]);
        assert!(!big.ended());

        let small = start(&d, "start", &vars(&[("amount", VariableValue::Long(5))])).expect("runs");
        assert!(small.ended());
        assert_eq!(small.end_activity.as_deref(), Some("end"));
        assert_eq!(small.trail, vec!["start", "f1", "gw", "f3", "auto", "f5", "end"]);

        let done = leave(&d, &big.tokens, "approve", &Variables::new()).expect("moves on");
        assert!(done.ended());
        assert_eq!(done.end_activity.as_deref(), Some("end"));
    }

    #[test]
    fn a_gateway_with_no_way_out_fails_and_a_missing_variable_is_an_error() {
        let mut d = approval();
        d.activities[1].default_flow = None;
        d.flows[2].condition = Some("${amount <= 100 && amount > 50}".into());
        let err = start(&d, "start", &vars(&[("amount", VariableValue::Long(10))])).expect_err("stuck");
        assert_eq!(err, RunError::NoOutgoingFlow("gw".into()));
        assert!(err
            .to_string()
            .starts_with("No outgoing sequence flow of the exclusive gateway 'gw'"));
        let err = start(&d, "start", &Variables::new()).expect_err("unknown variable");
        assert!(
            matches!(err, RunError::Expression(ExprError::UnknownProperty { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn parallel_gateway_forks_and_joins() {
        let d = def(
            &[
                ("start", K::StartEvent { message: None }),
                ("fork", K::ParallelGateway),
                ("a", K::UserTask),
                ("b", K::UserTask),
                ("join", K::ParallelGateway),
                ("after", K::UserTask),
                ("end", K::EndEvent),
            ],
            &[
                ("start", "fork", None),
                ("fork", "a", None),
                ("fork", "b", None),
                ("a", "join", None),
                ("b", "join", None),
                ("join", "after", None),
                ("after", "end", None),
            ],
        );
        let v = Variables::new();
        let s = start(&d, "start", &v).expect("forks");
        assert_eq!(s.tokens, vec!["a", "b"]);
        assert_eq!(s.new_tasks, vec!["a", "b"]);
        assert_eq!(s.current_activity(&d).as_deref(), Some("a"));

        let one = leave(&d, &s.tokens, "b", &v).expect("b done");
        assert_eq!(one.tokens, vec!["a", "join"], "b waits at the join");
        assert!(one.new_tasks.is_empty());
        assert_eq!(one.trail, vec!["f5"], "a parked join is not passed yet");
        assert_eq!(one.current_activity(&d).as_deref(), Some("a"));

        let both = leave(&d, &one.tokens, "a", &v).expect("a done");
        assert_eq!(both.tokens, vec!["after"]);
        assert_eq!(both.new_tasks, vec!["after"]);
        assert_eq!(both.trail, vec!["f4", "join", "f6", "after"]);

        let end = leave(&d, &both.tokens, "after", &v).expect("ends");
        assert!(end.ended());
        assert_eq!(
            leave(&d, &end.tokens, "after", &v),
            Err(RunError::NotWaiting("after".into()))
        );
    }

    #[test]
    fn conditional_flows_from_a_task_and_dead_ends() {
        let d = def(
            &[
                ("start", K::StartEvent { message: None }),
                ("t", K::Task),
                ("x", K::ReceiveTask),
                ("y", K::UserTask),
            ],
            &[
                ("start", "t", None),
                ("t", "x", Some("${go}")),
                ("t", "y", Some("${!go}")),
            ],
        );
        let yes = start(&d, "start", &vars(&[("go", VariableValue::Boolean(true))])).expect("runs");
        assert_eq!(yes.tokens, vec!["x"]);
        assert!(yes.new_tasks.is_empty(), "a receive task waits without a task");
        let out = leave(&d, &yes.tokens, "x", &Variables::new()).expect("dead end");
        assert!(out.ended());
        assert_eq!(
            out.end_activity.as_deref(),
            Some("x"),
            "a path with no way out ends where it is"
        );
    }

    #[test]
    fn a_loop_without_wait_states_is_stopped() {
        let d = def(
            &[
                ("start", K::StartEvent { message: None }),
                ("a", K::Task),
                ("b", K::Task),
            ],
            &[("start", "a", None), ("a", "b", None), ("b", "a", None)],
        );
        assert!(matches!(
            start(&d, "start", &Variables::new()),
            Err(RunError::Loop(_))
        ));
    }
}
