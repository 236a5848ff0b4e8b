//! The `/trust` page itself: plain HTML rendered on the server (it must work before
//! the device trusts Parlor, without the web app), the steps for the platform the user
//! agent names first and the others behind a disclosure, the authority's fingerprint,
//! and a small script for the self-test. Its own `Content-Security-Policy` allows that
//! script and the style by their hashes, and a fetch to this server over HTTPS.

use super::{Offer, Trust};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The platforms the page has steps for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Android,
    Ios,
    Windows,
    Macos,
    Linux,
}

const ALL: [Platform; 5] = [
    Platform::Android,
    Platform::Ios,
    Platform::Windows,
    Platform::Macos,
    Platform::Linux,
];

impl Platform {
    /// The platform a `User-Agent` names. iPadOS Safari says `Macintosh`; the page's
    /// script asks for the iPhone/iPad steps when such a "Mac" has a touch screen.
    pub fn from_user_agent(ua: &str) -> Option<Platform> {
        if ua.contains("Android") {
            Some(Platform::Android)
        } else if ua.contains("iPhone") || ua.contains("iPad") || ua.contains("iPod") {
            Some(Platform::Ios)
        } else if ua.contains("Windows") {
            Some(Platform::Windows)
        } else if ua.contains("Macintosh") || ua.contains("Mac OS X") {
            Some(Platform::Macos)
        } else if ua.contains("Linux") || ua.contains("X11") || ua.contains("CrOS") {
            Some(Platform::Linux)
        } else {
            None
        }
    }

    /// `?platform=` as the page's links spell it.
    pub fn from_name(name: &str) -> Option<Platform> {
        ALL.into_iter().find(|p| p.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Platform::Android => "android",
            Platform::Ios => "ios",
            Platform::Windows => "windows",
            Platform::Macos => "macos",
            Platform::Linux => "linux",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Platform::Android => "Android",
            Platform::Ios => "iPhone and iPad",
            Platform::Windows => "Windows",
            Platform::Macos => "macOS",
            Platform::Linux => "Linux",
        }
    }

    /// The steps, as HTML list items. `{name}` is the authority's name.
    fn steps(self) -> &'static [&'static str] {
        match self {
            Platform::Android => &[
                r#"<a href="/trust/ca.crt" download>Download Parlor's certificate</a> (parlor-ca.crt)."#,
                "Open <b>Settings</b>, search for <b>CA certificate</b> (usually under Security &amp; privacy → More security settings → Encryption &amp; credentials → Install a certificate → CA certificate).",
                "Tap <b>Install anyway</b>, confirm with your screen lock, and pick <b>parlor-ca.crt</b> from Downloads.",
                "Come back to this page and check again. Chrome and the installed app trust it at once; Firefox only after Settings → About Firefox, tapping the logo five times, then Secret settings → <b>Use third party CA certificates</b>.",
            ],
            Platform::Ios => &[
                r#"In Safari, <a href="/trust/parlor.mobileconfig">download the Parlor profile</a> and tap <b>Allow</b>."#,
                "Open <b>Settings</b>, tap <b>Profile Downloaded</b> near the top (or General → VPN &amp; Device Management), then <b>Install</b> and enter your passcode.",
                "Open Settings → General → About → <b>Certificate Trust Settings</b> and turn on full trust for <b>{name}</b>.",
                "Come back to this page and check again.",
            ],
            Platform::Windows => &[
                r#"<a href="/trust/ca.crt" download>Download Parlor's certificate</a> (parlor-ca.crt) and open it."#,
                "Choose <b>Install Certificate…</b>, <b>Current User</b>, then <b>Place all certificates in the following store</b> → Browse → <b>Trusted Root Certification Authorities</b>, and finish.",
                "Accept the security warning, then restart the browser. Firefox keeps its own list: Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import.",
                "Come back to this page and check again.",
            ],
            Platform::Macos => &[
                r#"<a href="/trust/ca.crt" download>Download Parlor's certificate</a> (parlor-ca.crt) and open it: Keychain Access adds it to the <b>login</b> keychain."#,
                "In Keychain Access, double-click <b>{name}</b>, open <b>Trust</b> and set <b>When using this certificate</b> to <b>Always Trust</b>; close the window and enter your password.",
                "Firefox keeps its own list: Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import.",
                "Come back to this page and check again.",
            ],
            Platform::Linux => &[
                r#"<a href="/trust/ca.pem" download>Download Parlor's certificate</a> (parlor-ca.pem)."#,
                "Debian, Ubuntu, Raspberry Pi OS: <code>sudo cp parlor-ca.pem /usr/local/share/ca-certificates/parlor-ca.crt &amp;&amp; sudo update-ca-certificates</code>. Fedora: <code>sudo cp parlor-ca.pem /etc/pki/ca-trust/source/anchors/ &amp;&amp; sudo update-ca-trust</code>.",
                "Chrome and Firefox keep their own lists: in Chrome, Settings → Privacy and security → Security → Manage certificates → Authorities → Import; in Firefox, Settings → Privacy &amp; Security → View Certificates → Authorities → Import, and tick <b>Trust this CA to identify websites</b>.",
                "Come back to this page and check again.",
            ],
        }
    }
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1b1b; --muted: #4a4a4a; --link: #0b57d0; --ok: #0a6b2d; --bad: #a4161a; --box: #f2f2f2; }
@media (prefers-color-scheme: dark) { :root { --bg: #121212; --fg: #ececec; --muted: #c4c4c4; --link: #9ec1ff; --ok: #7ee2a0; --bad: #ffaaa8; --box: #1f1f1f; } }
body { margin: 0; background: var(--bg); color: var(--fg); font: 1rem/1.5 system-ui, sans-serif; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem; }
a { color: var(--link); }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; }
h2 { font-size: 1.25rem; margin-top: 1.75rem; }
code { word-break: break-all; background: var(--box); padding: 0 0.2rem; }
.status { background: var(--box); border-radius: 0.5rem; padding: 0.75rem 1rem; }
.status h2 { margin-top: 0.25rem; }
[hidden] { display: none !important; }
.button.primary { background: var(--link); color: var(--bg); }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
button, .button { font: inherit; display: inline-block; padding: 0.6rem 1rem; border-radius: 0.4rem; border: 2px solid var(--link); background: var(--bg); color: var(--link); text-decoration: none; cursor: pointer; margin: 0.25rem 0; }
button:focus-visible, a:focus-visible, summary:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
details { margin: 0.75rem 0; }
summary { cursor: pointer; font-weight: 600; padding: 0.25rem 0; }
li { margin: 0.4rem 0; }
"#;

const SCRIPT: &str = r#"
(function () {
  var box = document.getElementById("check");
  if (!box) { return; }
  var platform = document.body.getAttribute("data-platform");
  if (platform === "macos" && navigator.maxTouchPoints > 1 && location.search.indexOf("platform=") < 0) {
    location.replace("/trust?platform=ios");
    return;
  }
  var port = location.port || (location.protocol === "https:" ? "443" : "80");
  var base = "https://" + location.hostname + ":" + port;
  var waiting = document.getElementById("check-waiting");
  var ok = document.getElementById("check-ok");
  var bad = document.getElementById("check-bad");
  var again = document.getElementById("check-again");
  document.getElementById("open-app").setAttribute("href", base + "/");
  function show(trusted) {
    waiting.hidden = true;
    ok.hidden = !trusted;
    bad.hidden = trusted;
    again.hidden = trusted;
    box.setAttribute("data-result", trusted ? "trusted" : "untrusted");
  }
  function check() {
    waiting.hidden = false; ok.hidden = true; bad.hidden = true;
    box.removeAttribute("data-result");
    fetch(base + "/trust/check", { mode: "cors", credentials: "omit", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { show(!!(j && j.trusted === true)); }, function () { show(false); });
  }
  again.addEventListener("click", check);
  check();
})();
"#;

fn hash(text: &str) -> String {
    data_encoding::BASE64.encode(&Sha256::digest(text.as_bytes()))
}

/// The page's policy: nothing but its own script and style (by hash), its own
/// downloads, and a fetch to this host over HTTPS (`'self'` covers the upgrade from
/// `http:` in CSP 3; `https:` says it for older browsers).
pub fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        format!(
            "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; \
             connect-src 'self' https:; img-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'",
            hash(SCRIPT),
            hash(STYLE)
        )
    })
}

/// The page for `trust`, with `platform`'s steps first.
pub fn render(trust: &Trust, platform: Option<Platform>) -> String {
    let body = match trust {
        Trust::Off => r#"<p>This Parlor does not use HTTPS, so there is no certificate to trust on this device.</p>
<p><a class="button" href="/">Open Parlor</a></p>"#
            .to_string(),
        Trust::Operator => r#"<p>This Parlor uses a certificate from whoever runs it, not one of its own: there is nothing to install from here. If your browser warns about it, ask them.</p>
<p><a class="button" href="/">Open Parlor</a></p>"#
            .to_string(),
        Trust::Authority(offer) => authority(offer, platform),
    };
    let platform_attr = platform.map(Platform::name).unwrap_or("");
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Trust Parlor on this device</title>
<style>{STYLE}</style>
</head>
<body data-platform="{platform_attr}">
<main>
<h1>Trust Parlor on this device</h1>
{body}
</main>
<script>{SCRIPT}</script>
</body>
</html>
"#
    )
}

fn steps(platform: Platform, name: &str, heading: &str) -> String {
    let items: String = platform
        .steps()
        .iter()
        .map(|s| format!("<li>{}</li>\n", s.replace("{name}", name)))
        .collect();
    format!(
        "<section aria-labelledby=\"steps-{id}\">\n<{heading} id=\"steps-{id}\">Steps for {title}</{heading}>\n<ol>\n{items}</ol>\n</section>\n",
        id = platform.name(),
        title = platform.title(),
    )
}

fn authority(offer: &Offer, platform: Option<Platform>) -> String {
    let name = html_escape::encode_text(&offer.name).into_owned();
    let mut out = format!(
        r#"<p>Parlor's messages travel encrypted. For your browser to accept that, this device has to trust <b>{name}</b>, the certificate authority this Parlor made for itself. You do this once per device.</p>
<section id="check" class="status" aria-labelledby="check-title" aria-live="polite">
<h2 id="check-title">Does this device trust Parlor?</h2>
<p id="check-waiting">Checking…</p>
<p id="check-ok" hidden><span class="ok">This device trusts Parlor.</span> <a id="open-app" class="button primary" href="/">Open Parlor</a></p>
<p id="check-bad" hidden><span class="bad">This device does not trust Parlor yet.</span> Follow the steps below, then check again.</p>
<button type="button" id="check-again">Check again</button>
</section>
"#
    );
    let others: Vec<Platform> = match platform {
        Some(first) => {
            out.push_str(&steps(first, &name, "h2"));
            ALL.into_iter().filter(|p| *p != first).collect()
        }
        None => ALL.to_vec(),
    };
    let summary = if platform.is_some() {
        "Steps for other devices"
    } else {
        "Steps for your device"
    };
    out.push_str(&format!(
        "<details{open}>\n<summary>{summary}</summary>\n",
        open = if platform.is_none() { " open" } else { "" }
    ));
    for p in others {
        out.push_str(&steps(p, &name, "h3"));
    }
    out.push_str("</details>\n");
    out.push_str(&format!(
        r#"<section aria-labelledby="cert-title">
<h2 id="cert-title">Parlor's certificate</h2>
<p><b>{name}</b>. Before you trust it, check that its SHA-256 fingerprint is the one Parlor printed when it started:</p>
<p><code id="fingerprint">{fingerprint}</code></p>
<ul>
<li><a href="/trust/ca.crt" download>parlor-ca.crt</a> (Android, Windows, macOS)</li>
<li><a href="/trust/parlor.mobileconfig">parlor.mobileconfig</a> (iPhone, iPad)</li>
<li><a href="/trust/ca.pem" download>parlor-ca.pem</a> (Linux, Firefox)</li>
</ul>
<p class="muted">This authority can vouch only for names and addresses of a home network (such as <code>.local</code> names and private addresses), never for other websites.</p>
</section>
"#,
        fingerprint = offer.fingerprint,
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_name_their_platform() {
        let cases = [
            ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120 Mobile", Some(Platform::Android)),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1", Some(Platform::Ios)),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120", Some(Platform::Windows)),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15", Some(Platform::Macos)),
            ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", Some(Platform::Linux)),
            ("curl/8.0", None),
        ];
        for (ua, platform) in cases {
            assert_eq!(Platform::from_user_agent(ua), platform, "{ua}");
        }
    }

    #[test]
    fn the_platform_of_the_device_comes_first() {
        let offer = Offer {
            name: "Parlor local CA 01020304".into(),
            der: vec![1, 2, 3],
            pem: String::new(),
            fingerprint: "AA:BB".into(),
            mobileconfig: String::new(),
        };
        let page = render(&Trust::Authority(offer.into()), Some(Platform::Ios));
        let ios = page.find("Steps for iPhone and iPad").expect("ios");
        let android = page.find("Steps for Android").expect("android");
        let other = page.find("Steps for other devices").expect("disclosure");
        assert!(ios < other && other < android, "{page}");
        assert!(page.contains("/trust/parlor.mobileconfig"));
        assert!(page.contains("AA:BB"));
        assert!(page.contains("full trust for <b>Parlor local CA 01020304</b>"));
    }

    #[test]
    fn without_an_authority_there_is_nothing_to_install() {
        let off = render(&Trust::Off, None);
        assert!(off.contains("does not use HTTPS"));
        assert!(!off.contains("/trust/ca.crt"));
        let operator = render(&Trust::Operator, Some(Platform::Android));
        assert!(operator.contains("nothing to install"));
        assert!(!operator.contains("/trust/ca.crt"));
    }
}
