"""What the browser suites share besides the `page` fixture: the browser, the demo directory's people, and
signing in on the login page."""
from __future__ import annotations

from portal.devservices.ldap import DEMO_PEOPLE

CHROMIUM = "/usr/bin/chromium"  # Debian's; never `playwright install`
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ALICE, BOB, CAROL, DAVE = (next(person for person in DEMO_PEOPLE if person.uid == uid)
                          for uid in ("alice", "bob", "carol", "dave"))


def sign_in(page, person) -> None:
    """Signs in on the login page shown, as one of the demo directory's people."""
    page.get_by_label("Username").fill(person.uid)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
