"""One router per area of the workbench."""
