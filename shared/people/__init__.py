"""People and projects in the results database: accounts and their passwords (`users`), API
tokens (`tokens`), one-time password resets (`resets`), projects with members and roles
(`projects`, `roles`), which project a job belongs to (`project_jobs`) and who did what
(`audit`). `cli` is `trapline-admin`. Used by the site and by the admin command, never by a
model server."""
