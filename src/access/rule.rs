//! GeoNature's read rule for one export (`Export.has_instance_permission`), as a pure function
//! of the facts; the facts that need a query are asked for only when the rule gets to them.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    NotGiven,
    Matches,
    Mismatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NoUser,
    WrongToken,
    NoPermission,
    NotAssociated,
}

/// In GeoNature's order: public, then token, then user, then scope, then association.
pub fn decide<E>(
    public: bool,
    token: TokenCheck,
    id_role: Option<i32>,
    scope_of: impl FnOnce(i32) -> Result<i32, E>,
    associated: impl FnOnce(i32) -> Result<bool, E>,
) -> Result<Result<(), Refusal>, E> {
    if public {
        return Ok(Ok(()));
    }
    match token {
        TokenCheck::Matches => return Ok(Ok(())),
        TokenCheck::Mismatch => return Ok(Err(Refusal::WrongToken)),
        TokenCheck::NotGiven => {}
    }
    let Some(role) = id_role else {
        return Ok(Err(Refusal::NoUser));
    };
    Ok(match scope_of(role)? {
        s if s >= 3 => Ok(()),
        1 | 2 => {
            if associated(role)? {
                Ok(())
            } else {
                Err(Refusal::NotAssociated)
            }
        }
        _ => Err(Refusal::NoPermission),
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    fn run(
        public: bool,
        token: TokenCheck,
        role: Option<i32>,
        scope: i32,
        assoc: bool,
    ) -> Result<(), Refusal> {
        decide::<()>(public, token, role, |_| Ok(scope), |_| Ok(assoc)).unwrap()
    }

    #[test]
    fn public_is_open_to_anyone_even_with_a_wrong_token() {
        assert_eq!(run(true, TokenCheck::NotGiven, None, 0, false), Ok(()));
        assert_eq!(run(true, TokenCheck::Mismatch, None, 0, false), Ok(()));
    }

    #[test]
    fn a_token_decides_before_the_user() {
        assert_eq!(run(false, TokenCheck::Matches, None, 0, false), Ok(()));
        // a wrong token refuses even an admin
        assert_eq!(
            run(false, TokenCheck::Mismatch, Some(1), 3, true),
            Err(Refusal::WrongToken)
        );
    }

    #[test]
    fn without_user_or_token_refuse() {
        assert_eq!(
            run(false, TokenCheck::NotGiven, None, 3, true),
            Err(Refusal::NoUser)
        );
    }

    #[test]
    fn scopes() {
        assert_eq!(run(false, TokenCheck::NotGiven, Some(1), 3, false), Ok(()));
        assert_eq!(run(false, TokenCheck::NotGiven, Some(1), 1, true), Ok(()));
        assert_eq!(run(false, TokenCheck::NotGiven, Some(1), 2, true), Ok(()));
        assert_eq!(
            run(false, TokenCheck::NotGiven, Some(1), 1, false),
            Err(Refusal::NotAssociated)
        );
        assert_eq!(
            run(false, TokenCheck::NotGiven, Some(1), 0, true),
            Err(Refusal::NoPermission)
        );
    }

    #[test]
    fn facts_are_fetched_lazily() {
        let r = decide::<()>(
            true,
            TokenCheck::NotGiven,
            Some(1),
            |_| panic!("scope asked"),
            |_| panic!("assoc asked"),
        );
        assert_eq!(r, Ok(Ok(())));
        let r = decide::<()>(
            false,
            TokenCheck::NotGiven,
            Some(1),
            |_| Ok(3),
            |_| panic!("assoc asked"),
        );
        assert_eq!(r, Ok(Ok(())));
    }
}
