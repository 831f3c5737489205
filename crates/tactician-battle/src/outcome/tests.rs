use super::*;

fn rules() -> OutcomeRules {
    OutcomeRules {
        victories: vec![
            VictoryRule::new("elimination", WinnerRule::Required, EndRule::Elimination),
            VictoryRule::new("points", WinnerRule::Required, EndRule::Points),
            VictoryRule::new("timeout", WinnerRule::None, EndRule::None),
        ],
        game: "demo".into(),
        end_check: None,
    }
}

fn end(winner: Option<u8>, victory: &str) -> DeclaredEnd<'_> {
    DeclaredEnd {
        winner,
        victory,
        ..Default::default()
    }
}

fn kind(r: &OutcomeRules, e: &DeclaredEnd<'_>) -> Option<ViolationKind> {
    r.check(e).err().map(|v| v.kind)
}

#[test]
fn declared_victories_and_winners() {
    let r = rules();
    assert_eq!(kind(&r, &end(Some(0), "elimination")), None);
    assert_eq!(kind(&r, &end(None, "timeout")), None);
    assert_eq!(
        kind(&r, &end(Some(1), "timeout")),
        Some(ViolationKind::Inconsistent)
    );
    assert_eq!(
        kind(&r, &end(None, "points")),
        Some(ViolationKind::Inconsistent)
    );
    let e = r.check(&end(Some(0), "resign")).unwrap_err();
    assert_eq!(e.kind, ViolationKind::Invalid);
    assert!(
        e.detail
            .contains("\"resign\" does not exist in the game demo"),
        "{e}"
    );
    assert_eq!(kind(&r, &end(Some(0), "")), Some(ViolationKind::Invalid));
    // Without declared victories any name passes, with the built-in checks.
    let open = OutcomeRules::default();
    assert_eq!(kind(&open, &end(Some(0), "resign")), None);
    let e = open.check(&end(None, "elimination")).unwrap_err();
    assert_eq!(e.detail, "an elimination without a winner");
}

#[test]
fn eliminations_and_points_follow_the_end_summary() {
    let r = rules();
    let mut e = end(Some(1), "elimination");
    e.alive = Some([0.0, 2.0]);
    assert_eq!(kind(&r, &e), None);
    e.alive = Some([1.0, 2.0]);
    assert_eq!(kind(&r, &e), Some(ViolationKind::Inconsistent));
    let mut p = end(Some(0), "points");
    p.material = Some([0.6, 0.4]);
    assert_eq!(kind(&r, &p), None);
    p.material = Some([0.4, 0.4]);
    assert_eq!(kind(&r, &p), Some(ViolationKind::Inconsistent));
}

struct Fixed(Result<EndFacts, Violation>);

impl EndCheck for Fixed {
    fn end_facts(&self, _: Option<&[u8]>, _: &[u8]) -> Result<EndFacts, Violation> {
        self.0.clone()
    }
}

#[test]
fn an_end_check_overrides_and_verifies_the_summary() {
    let facts = EndFacts {
        winner: Some(0),
        victory: "elimination".into(),
        alive: [2.0, 0.0],
        material: [0.5, 0.0],
    };
    let mut r = rules();
    r.end_check = Some(Arc::new(Fixed(Ok(facts.clone()))));
    let mut e = end(Some(0), "elimination");
    e.final_state = Some(b"{}");
    assert_eq!(kind(&r, &e), None);
    e.alive = Some([1.0, 0.0]);
    assert!(r.check(&e).unwrap_err().detail.contains("outcome.alive"));
    e.alive = None;
    e.winner = Some(1);
    assert!(
        r.check(&e)
            .unwrap_err()
            .detail
            .contains("the final state says")
    );
    // Without a final state the check is not consulted.
    e.final_state = None;
    e.winner = Some(0);
    r.end_check = Some(Arc::new(Fixed(Err(Violation::new(
        ViolationKind::Missing,
        "x",
    )))));
    assert_eq!(kind(&r, &e), None);
    e.final_state = Some(b"{}");
    assert_eq!(kind(&r, &e), Some(ViolationKind::Missing));
}

#[test]
fn duplicate_victories_are_refused() {
    let mut r = rules();
    assert!(r.validate().is_ok());
    r.victories
        .push(VictoryRule::new("points", WinnerRule::Any, EndRule::None));
    assert!(r.validate().unwrap_err().contains("twice"));
}
