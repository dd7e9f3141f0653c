"""Runs the scim2-tester compliance checks against a running Roster.

Usage: python scim_check.py BASE_URL TOKEN

Prints one line per check and exits non-zero if any check reports a
violation of the RFCs (ERROR or CRITICAL). Deviations from SHOULDs are
printed but do not fail the run.
"""

import sys
import time
from collections import Counter

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import check_server
from scim2_tester.utils import Status

FAILING = {Status.ERROR, Status.CRITICAL}


def main(base_url: str, token: str) -> int:
    http = Client(
        base_url=base_url.rstrip("/") + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    wait_until_up(http)
    scim = SyncSCIMClient(http)
    results = check_server(scim)
    counts = Counter(r.status.name for r in results)
    for r in results:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        reason = f": {r.reason}" if r.reason else ""
        print(f"{r.status.name:10} {where}{r.title}{reason}")
    print("summary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 1 if any(r.status in FAILING for r in results) else 0


def wait_until_up(http: Client, seconds: float = 60) -> None:
    """The server was just started; give it time to migrate and listen."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if http.get("ServiceProviderConfig").status_code == 200:
                return
        except Exception:  # not listening yet
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not answer within {seconds} s")
        time.sleep(0.5)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
