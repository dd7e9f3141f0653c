//! The console in a real browser: headless Chromium driven through
//! chromedriver (WebDriver). `scripts/test` installs both; elsewhere the
//! tests skip with a message when no chromedriver is found, unless
//! `ROSTER_TEST_CHROMEDRIVER` names one, which must then work.
//! Screenshots of each page land in `target/console-screenshots/`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::audit_admins::{ADMIN, ADMIN_PASSWORD, app_with_admin};
use crate::console_pages::XSS;
use crate::helpers::{Db, TestApp, user_body};

/// chromedriver, for as long as the test runs.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("ROSTER_TEST_CHROMEDRIVER") {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("chromedriver"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path.into_iter().find(|p| p.is_file())
}

/// A started chromedriver, or `None` (with the reason printed) when this
/// machine has none.
pub async fn driver() -> Option<Driver> {
    let Some(path) = chromedriver() else {
        eprintln!(
            "SKIPPED: no chromedriver found (install Debian's chromium and chromium-driver, \
             as scripts/test does, or set ROSTER_TEST_CHROMEDRIVER)"
        );
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    Some(driver)
}

/// A headless Chromium session at 1280×800.
pub async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,800"]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

pub async fn sign_in(c: &Client, app: &TestApp) {
    c.goto(&format!("{}/console/login", app.root))
        .await
        .unwrap();
    screenshot(c, "login").await;
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(ADMIN)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(ADMIN_PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.stack button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.signout"))
        .await
        .unwrap();
}

/// The page's text as the browser renders it.
pub async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// No dialog is open: a script that ran `alert` would have left one.
pub async fn assert_no_alert(c: &Client) {
    assert!(
        c.get_alert_text().await.is_err(),
        "an alert is open: injected script ran"
    );
}

#[actix_web::test]
async fn the_console_in_a_browser() {
    let Some(driver) = driver().await else { return };
    let app = app_with_admin(Db::Sqlite).await;
    let mut xss = user_body("xss@example.com");
    xss["displayName"] = json!(XSS);
    app.post("/Users", &xss).await.assert_status(201);
    let found = app.create_user("search-me@example.com").await;
    let mut members = vec![found.clone()];
    for i in 0..149 {
        members.push(app.create_user(&format!("m{i:03}@example.com")).await);
    }
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let group = app.create_group("All staff", &refs).await;

    let c = browser(&driver).await;
    sign_in(&c, &app).await;
    // Keyboard: the first Tab reaches the skip link.
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = c.active_element().await.unwrap().text().await.unwrap();
    assert_eq!(focused, "Skip to content");

    c.goto(&format!("{}/console/users", app.root))
        .await
        .unwrap();
    assert_no_alert(&c).await;
    let text = body_text(&c).await;
    assert!(text.contains(XSS), "the payload shows as text: {text}");
    let images = c
        .execute("return document.images.length", vec![])
        .await
        .unwrap();
    assert_eq!(images, json!(0), "no element was injected");
    screenshot(&c, "users").await;

    let filter = c.find(Locator::Id("filter")).await.unwrap();
    filter
        .send_keys("userName eq \"search-me@example.com\"")
        .await
        .unwrap();
    c.find(Locator::Css("form.search button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The unfiltered page has a count too; only the filtered one offers
    // to clear the filter.
    c.wait()
        .for_element(Locator::LinkText("Clear"))
        .await
        .unwrap();
    let text = body_text(&c).await;
    assert!(
        text.contains("1 result") && text.contains("search-me@example.com"),
        "{text}"
    );
    c.find(Locator::LinkText("search-me@example.com"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("ul.links"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("All staff"));
    screenshot(&c, "user").await;

    c.goto(&format!("{}/console/groups/{group}", app.root))
        .await
        .unwrap();
    let rows = c
        .find_all(Locator::Css("table.members tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 100);
    screenshot(&c, "group").await;
    c.find(Locator::Css("a[rel=next]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::LinkText("← First members"))
        .await
        .unwrap();
    let rows = c
        .find_all(Locator::Css("table.members tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 50);
    assert!(
        c.find(Locator::Css("a[rel=next]")).await.is_err(),
        "the last page"
    );

    c.goto(&format!("{}/console/groups", app.root))
        .await
        .unwrap();
    screenshot(&c, "groups").await;

    c.goto(&format!("{}/console/credentials", app.root))
        .await
        .unwrap();
    c.find(Locator::Id("token-name"))
        .await
        .unwrap()
        .send_keys("okta-production")
        .await
        .unwrap();
    c.find(Locator::Css("form.inline button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let fresh = c
        .wait()
        .for_element(Locator::Id("fresh-secret"))
        .await
        .unwrap();
    let token = fresh.prop("value").await.unwrap().unwrap();
    assert!(token.starts_with("roster_"));
    screenshot(&c, "credentials").await;

    // A form without the session's token is refused.
    let forged = "const f = document.createElement('form'); f.method = 'post'; \
        f.action = '/console/credentials/tokens'; const i = document.createElement('input'); \
        i.name = 'name'; i.value = 'forged'; f.appendChild(i); document.body.appendChild(f); f.submit();";
    c.execute(forged, vec![]).await.unwrap();
    c.wait().for_element(Locator::Css("p.error")).await.unwrap();
    assert!(
        body_text(&c)
            .await
            .contains("did not come from the console")
    );
    c.goto(&format!("{}/console/credentials", app.root))
        .await
        .unwrap();
    assert!(!body_text(&c).await.contains("forged"));

    c.goto(&format!("{}/console/status", app.root))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Ready"));
    screenshot(&c, "status").await;

    // A phone's width.
    c.set_window_size(390, 844).await.unwrap();
    c.goto(&format!("{}/console/users", app.root))
        .await
        .unwrap();
    screenshot(&c, "users-phone").await;
    c.set_window_size(1280, 800).await.unwrap();

    c.find(Locator::Css("form.signout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("password")).await.unwrap();
    c.goto(&format!("{}/console/users", app.root))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/login")
    );
    c.close().await.unwrap();
}

#[actix_web::test]
async fn the_activity_in_a_browser() {
    use crate::console_activity::{PASSWORD, SUMMARIES, okta_flow};
    use crate::helpers::TOKEN;
    let Some(driver) = driver().await else { return };
    let app = crate::audit_admins::app_with_admin_and(Db::Sqlite, |c| {
        c.audit.flush_interval_ms = 20;
    })
    .await;
    // A second tenant: entries are marked with theirs, live ones too.
    crate::tenants::tenant_with_token(&app.db, "acme").await;
    let c = browser(&driver).await;
    sign_in(&c, &app).await;
    okta_flow(&app).await;
    crate::audit_trail::logged(&app, 5).await;
    c.goto(&format!("{}/console/activity", app.root))
        .await
        .unwrap();
    let text = body_text(&c).await;
    for summary in SUMMARIES {
        assert!(text.contains(summary), "{summary} missing: {text}");
    }
    let source = c.source().await.unwrap();
    assert!(!source.contains(TOKEN) && !source.contains(PASSWORD));
    screenshot(&c, "activity").await;

    // New requests appear without a reload.
    app.create_user("live@example.com").await;
    let live = Locator::XPath("//td[contains(., 'created user live@example.com')]");
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(live)
        .await
        .unwrap();
    let tenant_cell = "//tr[td[contains(., 'created user live@example.com')]]/td[2]";
    let tenant = c.find(Locator::XPath(tenant_cell)).await.unwrap();
    assert_eq!(tenant.text().await.unwrap(), "default");
    screenshot(&c, "activity-live").await;

    let created = format!("//tr[td[contains(., '{}')]]//a", SUMMARIES[0]);
    c.find(Locator::XPath(&created))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("table.diff"))
        .await
        .unwrap();
    let text = body_text(&c).await;
    assert!(
        text.contains("Request body") && text.contains("\"userName\": \"okta.user@example.com\""),
        "{text}"
    );
    let source = c.source().await.unwrap();
    assert!(!source.contains(TOKEN), "the bearer token is in the page");
    assert!(!source.contains(PASSWORD), "the password is in the page");
    screenshot(&c, "request").await;
    c.find(Locator::LinkText("okta.user@example.com"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("ul.links"))
        .await
        .unwrap();
    assert!(body_text(&c).await.contains("Okta Push"));
    c.close().await.unwrap();
}
