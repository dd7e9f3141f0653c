//! A browser-like client for the console's pages: it keeps cookies, does
//! not follow redirects, and sends forms as a same-origin browser would.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD};
use crate::helpers::{Resp, TestApp, read};

pub struct ConsoleClient {
    pub root: String,
    client: awc::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

impl ConsoleClient {
    pub fn new(app: &TestApp) -> Self {
        Self::at(&app.root)
    }

    pub fn at(root: &str) -> Self {
        Self {
            root: root.to_owned(),
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(std::time::Duration::from_secs(60))
                .finish(),
            jar: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&self, resp: &Resp) {
        for value in resp.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let mut jar = self.jar.lock().unwrap();
            if value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        let req = self
            .client
            .get(format!("{}{path}", self.root))
            .insert_header(("Cookie", self.cookie_header()));
        let resp = read(req.send().await.expect("reaches the server")).await;
        self.keep(&resp);
        resp
    }

    /// A form POST with the headers a same-origin browser adds, and
    /// `headers` on top (replacing them).
    pub async fn post(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let host = self.root.trim_start_matches("http://");
        let mut req = self
            .client
            .post(format!("{}{path}", self.root))
            .insert_header(("Cookie", self.cookie_header()))
            .insert_header(("Origin", format!("http://{host}")))
            .insert_header(("Sec-Fetch-Site", "same-origin"));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = req.insert_header(("Content-Type", "application/x-www-form-urlencoded"));
        let resp = read(req.send_body(body).await.expect("reaches the server")).await;
        self.keep(&resp);
        resp
    }

    /// Signs in as `user`: loads the form for its token, then posts it.
    pub async fn sign_in_as(&self, user: &str, password: &str) -> Resp {
        let form = self.get("/console/login").await;
        form.assert_status(200);
        let csrf = hidden(&form.text, "csrf");
        self.post(
            "/console/login",
            &[("username", user), ("password", password), ("csrf", &csrf)],
            &[],
        )
        .await
    }

    /// Signs in as the test admin and checks that it worked.
    pub async fn sign_in(&self) {
        let resp = self.sign_in_as(ADMIN, ADMIN_PASSWORD).await;
        resp.assert_status(303);
        assert!(
            self.cookie("roster_console").is_some(),
            "{:?}",
            resp.headers
        );
    }

    /// The CSRF token a signed-in page carries.
    pub async fn csrf(&self) -> String {
        let page = self.get("/console/status").await;
        page.assert_status(200);
        hidden(&page.text, "csrf")
    }
}

/// The value of the hidden input `name` in an HTML page.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}

/// The value of the input whose id is `id`.
pub fn value_of(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no input {id} in {html}"));
    let marker = "value=\"";
    let start = at + html[at..].find(marker).unwrap() + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_owned()
}
