"""Qt item models over paged core queries, and the edit history."""
