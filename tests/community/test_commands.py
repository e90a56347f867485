import sqlite3


def test_send_digests_from_the_command_line(manage, tmp_path):
    with sqlite3.connect(manage.database) as connection:
        connection.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name,"
            " email, is_staff, is_active, date_joined, display_name, bio)"
            " VALUES ('!', 0, 'ann', '', '', 'ann@example.com', 0, 1, '2026-01-01', 'Ann', ''),"
            " ('!', 0, 'bob', '', '', 'bob@example.com', 0, 1, '2026-01-01', 'Bob', '')"
        )
        connection.execute(
            "INSERT INTO creations_creation (owner_id, title, description, image, thumbnail,"
            " alt_text, width, height, image_hash, status, hidden_by_moderator, hidden_reason,"
            " created_at, updated_at, score_count)"
            " VALUES (1, 'Lamp', '', 'x.jpg', 'x.webp', '', 1, 1, '', 'published', 0, '',"
            " '2026-01-01', '2026-01-01', 0)"
        )
        connection.execute(
            "INSERT INTO community_comment (creation_id, user_id, body, created_at)"
            " VALUES (1, 2, 'How is that hand attached?', '2026-01-01')"
        )
        # The comment's event, left in the outbox as when the broker was down.
        connection.execute(
            "INSERT INTO community_pendingevent (kind, data, created_at, attempts)"
            " VALUES ('comment_created', '{\"comment_id\": 1}', '2026-01-01', 0)"
        )
    mail = tmp_path / "mail"

    completed = manage("manage.py", "send_digests", EMAIL_FILE_PATH=str(mail))

    assert completed.returncode == 0, completed.stderr
    assert "Processed 1 waiting event(s)." in completed.stdout
    assert "Mailed 1 digest(s) listing 1 notification(s)." in completed.stdout
    (sent,) = mail.glob("*.log")
    text = sent.read_text()
    assert (
        "To: ann@example.com" in text
        and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
    )
    assert "/notifications/unsubscribe/" in text
    assert "Bob commented on" in text
    assert manage.sql("SELECT kind, emailed_at IS NOT NULL FROM community_notification") == [
        ("comment", 1)
    ]

    again = manage("manage.py", "send_digests", EMAIL_FILE_PATH=str(mail))

    assert again.returncode == 0, again.stderr
    assert "Processed 0 waiting event(s)." in again.stdout
    assert "Mailed 0 digest(s) listing 0 notification(s)." in again.stdout
    assert len(list(mail.glob("*.log"))) == 1
