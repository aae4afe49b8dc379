"""The workbench: a Chinese web app for window staff, reply pages for agencies, status pages
for citizens. A front end like the CLI: it calls the application layer (usecases) only."""
