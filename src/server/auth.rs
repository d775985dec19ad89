//! One user directory for every dialect (DESIGN.md, Authentication).

use std::collections::HashMap;

use base64::Engine as _;

/// Users and their passwords. The default is Flowable's packaged REST app user.
#[derive(Debug, Clone)]
pub struct Users {
    passwords: HashMap<String, String>,
}

impl Default for Users {
    fn default() -> Self {
        Users::parse("rest-admin:test").unwrap_or(Users {
            passwords: HashMap::new(),
        })
    }
}

impl Users {
    /// `user:password[,user:password...]`.
    pub fn parse(spec: &str) -> Result<Users, String> {
        let mut passwords = HashMap::new();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (user, password) = entry
                .split_once(':')
                .ok_or_else(|| format!("user entry '{entry}' is not user:password"))?;
            if user.is_empty() {
                return Err(format!("user entry '{entry}' has an empty user name"));
            }
            passwords.insert(user.to_owned(), password.to_owned());
        }
        Ok(Users { passwords })
    }

    pub fn check(&self, user: &str, password: &str) -> bool {
        self.passwords.get(user).is_some_and(|p| p == password)
    }

    /// The user of a valid `Authorization: Basic ...` header value.
    pub fn basic(&self, header: Option<&str>) -> Option<String> {
        let encoded = header?
            .trim()
            .strip_prefix("Basic ")
            .or_else(|| header?.trim().strip_prefix("basic "))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        self.check(user, password).then(|| user.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        let users = Users::default();
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("rest-admin:test")
        );
        assert_eq!(users.basic(Some(&header)).as_deref(), Some("rest-admin"));
        let wrong = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("rest-admin:nope")
        );
        assert_eq!(users.basic(Some(&wrong)), None);
        assert_eq!(users.basic(Some("Basic !!!")), None);
        assert_eq!(users.basic(Some("Bearer x")), None);
        assert_eq!(users.basic(None), None);
        assert!(Users::parse("a:b, c:d:e").expect("parses").check("c", "d:e"));
        assert!(Users::parse("nopassword").is_err());
    }
}
