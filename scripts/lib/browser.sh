# Headless Chromium and its WebDriver for the console's browser tests
# (tests/api/console_browser.rs). Sourced by scripts/test.

browser_ensure_installed() {
    local missing=()
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=()
        if [ "$(id -u)" -ne 0 ]; then
            if command -v sudo >/dev/null 2>&1; then
                sudo=(sudo)
            else
                echo "browser: need root or sudo to install: ${missing[*]}" >&2
                return 1
            fi
        fi
        echo "browser: installing ${missing[*]}" >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    fi
    # The browser tests fail, rather than skip, when the driver is missing.
    ROSTER_TEST_CHROMEDRIVER=$(command -v chromedriver)
    export ROSTER_TEST_CHROMEDRIVER
}
