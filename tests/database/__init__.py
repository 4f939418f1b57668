"""The schema and the data kept: migrations, MariaDB going away and coming back, backups."""
