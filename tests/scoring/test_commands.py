import sqlite3


def test_recompute_scores_from_the_command_line(manage):
    with sqlite3.connect(manage.database) as connection:
        connection.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined, display_name, bio)"
            " VALUES ('!', 0, 'a', '', '', 'a@example.com', 0, 1, '2026-01-01', '', ''),"
            " ('!', 0, 'b', '', '', 'b@example.com', 0, 1, '2026-01-01', '', '')"
        )
        connection.execute(
            "INSERT INTO creations_creation (owner_id, title, description, image, thumbnail,"
            " alt_text, width, height, image_hash, status, hidden_by_moderator, hidden_reason,"
            " created_at, updated_at, score_count)"
            " VALUES (1, 'Lamp', '', 'x.jpg', 'x.webp', '', 1, 1, '', 'published', 0, '',"
            " '2026-01-01', '2026-01-01', 0)"
        )
        # A score written behind the services' back: the aggregates are stale.
        connection.execute(
            "INSERT INTO scoring_score (user_id, creation_id, creativity, uniqueness, created_at,"
            " updated_at) VALUES (2, 1, 4, 2, '2026-01-01', '2026-01-01')"
        )
    completed = manage("manage.py", "recompute_scores")
    assert completed.returncode == 0, completed.stderr
    assert "Recomputed the aggregates of 1 creation(s); 1 had drifted." in completed.stdout
    assert manage.sql(
        "SELECT score_count, creativity_avg, uniqueness_avg, rating FROM creations_creation"
    ) == [(1, 4.0, 2.0, 3.0)]


def test_refresh_rankings_from_the_command_line(manage):
    with sqlite3.connect(manage.database) as connection:
        connection.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined, display_name, bio)"
            " VALUES ('!', 0, 'a', '', '', 'a@example.com', 0, 1, '2026-01-01', '', '')"
        )
        # Two scored creations, ranked with a stale prior of 3.
        connection.executemany(
            "INSERT INTO creations_creation (owner_id, title, description, image, thumbnail,"
            " alt_text, width, height, image_hash, status, hidden_by_moderator, hidden_reason,"
            " created_at, updated_at, score_count, creativity_avg, uniqueness_avg, rating, top)"
            " VALUES (1, ?, '', 'x.jpg', 'x.webp', '', 1, 1, '', 'published', 0, '',"
            " '2026-01-01', '2026-01-01', ?, ?, ?, ?, ?)",
            [("Lamp", 5, 5.0, 5.0, 5.0, 4.0), ("Cart", 5, 4.0, 4.0, 4.0, 3.5)],
        )
    completed = manage("manage.py", "refresh_rankings")
    assert completed.returncode == 0, completed.stderr
    assert (
        "The prior for `top` is now 4.5000 (weight 5), the typical rater variance 1.0000; "
        "2 scored creation(s) re-ranked." in completed.stdout
    )
    # (5 × 4.5 + 5 × rating) / 10
    assert manage.sql("SELECT title, top FROM creations_creation ORDER BY id") == [
        ("Lamp", 4.75),
        ("Cart", 4.25),
    ]
    assert manage.sql("SELECT mean, weight FROM creations_rankingprior") == [(4.5, 5)]
