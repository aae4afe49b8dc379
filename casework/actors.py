"""Who, besides a person with an account, writes to the case database: the names the audit trail
and the contact log keep for them (a person is kept by username and shown by display name)."""

from __future__ import annotations

SYSTEM = "system"  # a case's run, the sweep, the reconciler
CONSOLE = "console"  # the command line on the server, run without --as
AGENCY_LINK = "agency-link"  # an agency on its own reply page
PREFECT_UI = "prefect-ui"  # a manager's answer in Prefect's Resume form
CITIZEN = "citizen"  # the citizen on her status page

NOT_PEOPLE = (SYSTEM, CONSOLE, AGENCY_LINK, PREFECT_UI, CITIZEN)
